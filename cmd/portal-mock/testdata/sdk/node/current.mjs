// The WorkOS documentation page's Node snippet for the current major of
// @workos-inc/node, in which workos.portal is called workos.adminPortal.
// Usage: node current.mjs <base-url>, with the cases on standard input.
import { WorkOS } from '@workos-inc/node';
import { mockAddress, serve } from './cases.mjs';

async function snippet() {
  const workos = new WorkOS('sk_example_123456789', mockAddress());

  const { link } = await workos.adminPortal.generateLink({
    organization: 'org_01EHZNVPK3SFK441A1RGBFSHRT',
    intent: 'audit_logs',
  });

  // Redirect to link
  return link;
}

// The same call, with what each error case changes.
async function call(key, intent) {
  const workos = new WorkOS(key, mockAddress());
  return (await workos.adminPortal.generateLink({ organization: 'org_01EHZNVPK3SFK441A1RGBFSHRT', intent })).link;
}

await serve({
  snippet,
  'wrong key': () => call('sk_live_not_accepted', 'audit_logs'),
  'invalid': () => call('sk_example_123456789', 'billing'), // an intent outside the enum
  'rate limited': snippet,
});
