import { setLogLevel } from "firebase/firestore";

// Denied writes are what the deny cases expect; the client SDK would warn about each one (with
// a stack trace). Errors still print.
setLogLevel("error");
