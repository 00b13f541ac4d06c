import { resolveDestination, type Resolver } from "../../src/delivery/resolve-destination";
import { blockedAddressReason } from "../../src/domain/ip-policy";

/** Hostile hosts resolve through this fake DNS; a real lookup is never made. */
const dns: Record<string, string[]> = {
  "hooks.example.com": ["93.184.216.34"],
  "v6.example.com": ["2606:4700:4700::1111"],
  "metadata.example.com": ["169.254.169.254"],
  "internal.example.com": ["10.0.0.5"],
  "rebind.example.com": ["93.184.216.34", "127.0.0.1"],
  "mapped.example.com": ["::ffff:10.0.0.1"],
  "ula.example.com": ["fd12:3456::1"],
  "cgnat.example.com": ["100.100.100.100"],
  "nat64.example.com": ["64:ff9b::7f00:1"],
  "sixtofour.example.com": ["2002:7f00:1::1"],
};
const fakeDns: Resolver = async (host) => {
  const found = dns[host];
  if (!found) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return found;
};
const guard = (url: string, allowLocalHttp = false) => resolveDestination(url, { allowLocalHttp, resolve: fakeDns });

describe("SSRF guard", () => {
  it.each([
    "http://hooks.example.com/owlette",
    "https://127.0.0.1/",
    "https://localhost/",
    "https://[::1]/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://0/",
    "https://0.0.0.0/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://172.31.255.255/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/",
    "https://100.64.0.1/",
    "https://[fd00::1]/",
    "https://[fc00::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:a9fe:a9fe::]/",
    "https://[::]/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://198.18.0.1/",
    "https://metadata.example.com/",
    "https://internal.example.com/",
    "https://rebind.example.com/",
    "https://mapped.example.com/",
    "https://ula.example.com/",
    "https://cgnat.example.com/",
    "https://nat64.example.com/",
    "https://sixtofour.example.com/",
    "https://user:pass@hooks.example.com/",
    "file:///etc/passwd",
    "gopher://hooks.example.com/",
    "http://127.0.0.1:8080/hook",
  ])("refuses %s", async (url) => {
    const result = await guard(url);
    expect(result.ok).toBe(false);
  });

  it("accepts public https hosts and pins the checked address", async () => {
    expect(await guard("https://hooks.example.com/owlette")).toMatchObject({ ok: true, address: "93.184.216.34" });
    expect(await guard("https://v6.example.com/")).toMatchObject({ ok: true, address: "2606:4700:4700::1111" });
    expect(await guard("https://93.184.216.34/")).toMatchObject({ ok: true, address: "93.184.216.34" });
  });

  it("reports an unknown host as a DNS error", async () => {
    expect(await guard("https://nowhere.example.com/")).toMatchObject({ ok: false, error: "dns_error" });
  });

  it("allows plain http to loopback only when local receivers are allowed (the emulator)", async () => {
    expect(await guard("http://127.0.0.1:8080/hook", true)).toMatchObject({ ok: true, address: "127.0.0.1" });
    expect(await guard("http://localhost:8080/hook", true)).toMatchObject({ ok: true, address: "127.0.0.1" });
    expect((await guard("http://10.0.0.1/hook", true)).ok).toBe(false);
    expect((await guard("https://internal.example.com/", true)).ok).toBe(false);
  });

  it("names the reason for each blocked range", () => {
    expect(blockedAddressReason("169.254.169.254")).toMatch(/metadata/);
    expect(blockedAddressReason("::ffff:192.168.0.1")).toBe("IPv4-mapped private");
    expect(blockedAddressReason("8.8.8.8")).toBeNull();
    expect(blockedAddressReason("2606:4700::1111")).toBeNull();
  });
});
