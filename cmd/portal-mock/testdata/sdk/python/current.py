"""The WorkOS documentation page's Python snippet for the current major of
workos, in which portal is admin_portal and organization_id is
organization. The mock's address is base_url.
Usage: python3 current.py <base-url>, with the cases on standard input."""

import sys

from cases import serve
from workos import WorkOSClient

BASE_URL = sys.argv[1]


def snippet():
    workos_client = WorkOSClient(
        api_key="sk_example_123456789", client_id="client_123456789", base_url=BASE_URL
    )

    organization_id = (
        "org_123"  # The ID of the organization to start an Admin Portal session for
    )

    portal_link = workos_client.admin_portal.generate_link(
        organization=organization_id, intent="audit_logs"
    )

    # Redirect to portal_link.link
    return portal_link.link


def call(key, intent):
    """The same call, with what each error case changes."""
    client = WorkOSClient(api_key=key, client_id="client_123456789", base_url=BASE_URL)
    return client.admin_portal.generate_link(organization="org_123", intent=intent).link


serve({
    "snippet": snippet,
    "wrong key": lambda: call("sk_live_not_accepted", "audit_logs"),
    "invalid": lambda: call("sk_example_123456789", "billing"),  # an intent outside the enum
    "rate limited": snippet,
})
