// Firebase for the console: the web app configuration comes from Firebase Hosting's reserved URL
// /__/firebase/init.js (deployed: the project's config; served by the Hosting emulator with
// ?useEmulator=true: the running emulators too), so nothing project-specific is built in.
import { initializeApp, type FirebaseOptions } from "firebase/app";
import { connectAuthEmulator, getAuth, type Auth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, type Firestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions, httpsCallable, type Functions } from "firebase/functions";

/** The functions' region (functions/src/config.ts). */
const REGION = "us-central1";

interface HostingInit {
  config?: FirebaseOptions;
  firestore?: { host: string; port: number };
  functions?: { host: string; port: number };
  auth?: string;
}

export interface Services {
  auth: Auth;
  db: Firestore;
  functions: Functions;
  emulated: boolean;
  call: <T = unknown>(name: string, data: Record<string, unknown>) => Promise<T>;
}

/** init.js calls a global `firebase` (the compat SDK); this stand-in records what it asks for. */
function readHostingInit(useEmulator: boolean): Promise<HostingInit> {
  return new Promise((resolve, reject) => {
    const found: HostingInit = {};
    (window as unknown as { firebase: unknown }).firebase = {
      initializeApp: (config: FirebaseOptions) => void (found.config = config),
      firestore: () => ({ useEmulator: (host: string, port: number) => void (found.firestore = { host, port }) }),
      functions: () => ({ useEmulator: (host: string, port: number) => void (found.functions = { host, port }) }),
      auth: () => ({ useEmulator: (url: string) => void (found.auth = url) }),
    };
    const script = document.createElement("script");
    script.src = `/__/firebase/init.js${useEmulator ? "?useEmulator=true" : ""}`;
    script.onload = () => (found.config ? resolve(found) : reject(new Error("no web app configuration at /__/firebase/init.js")));
    script.onerror = () => reject(new Error("could not load /__/firebase/init.js: serve the console from Firebase Hosting (or its emulator)"));
    document.head.append(script);
  });
}

export async function connect(): Promise<Services> {
  const local = ["127.0.0.1", "localhost", "[::1]"].includes(location.hostname);
  const init = await readHostingInit(local);
  const app = initializeApp(init.config as FirebaseOptions);
  const auth = getAuth(app);
  const db = getFirestore(app);
  const functions = getFunctions(app, REGION);
  if (init.auth) connectAuthEmulator(auth, init.auth, { disableWarnings: true });
  if (init.firestore) connectFirestoreEmulator(db, init.firestore.host, init.firestore.port);
  if (init.functions) connectFunctionsEmulator(functions, init.functions.host, init.functions.port);
  const call = async <T>(name: string, data: Record<string, unknown>) => (await httpsCallable<Record<string, unknown>, T>(functions, name)(data)).data;
  return { auth, db, functions, emulated: !!init.auth, call };
}
