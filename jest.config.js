/** @type {import('jest').Config} */
const ts = {
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/functions/tsconfig.test.json" }],
  },
  testEnvironment: "node",
  rootDir: __dirname,
};

module.exports = {
  reporters: ["default", "<rootDir>/scripts/jest-report.js"],
  projects: [
    { ...ts, displayName: "unit", testMatch: ["<rootDir>/functions/test/unit/**/*.test.ts"] },
    {
      ...ts,
      displayName: "rules",
      testMatch: ["<rootDir>/functions/test/rules/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/functions/test/rules/quiet.ts"],
    },
    {
      ...ts,
      displayName: "integration",
      testMatch: ["<rootDir>/functions/test/integration/**/*.test.ts"],
      slowTestThreshold: 30,
    },
  ],
};
