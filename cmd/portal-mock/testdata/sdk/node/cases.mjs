// Runs the cases that sdk_test.go asks for, one name a line on standard
// input, and answers each with one line of JSON on standard output:
// {case, ok, link} or {case, ok: false, error, status, requestID, retryAfter},
// error being the class of what the SDK threw.
import { createInterface } from 'node:readline';

export async function serve(cases) {
  for await (const name of createInterface({ input: process.stdin })) {
    let result;
    try {
      result = { case: name, ok: true, link: await cases[name]() };
    } catch (e) {
      result = {
        case: name, ok: false, error: e.constructor.name, status: e.status,
        requestID: e.requestID, retryAfter: e.retryAfter, message: e.message,
      };
    }
    console.log(JSON.stringify(result));
  }
}

// mockAddress is the mock's address, given as the first argument, in the
// options the SDK takes: a host, a port and a scheme, not a URL.
export function mockAddress() {
  const base = new URL(process.argv[2]);
  return { apiHostname: base.hostname, port: Number(base.port), https: base.protocol === 'https:' };
}
