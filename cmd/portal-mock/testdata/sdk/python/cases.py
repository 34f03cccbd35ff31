"""Runs the cases that sdk_test.go asks for, one name a line on standard
input, and answers each with one line of JSON on standard output:
{case, ok, link} or {case, ok: false, error, status, requestID, retryAfter},
error being the class of what the SDK raised."""

import json
import sys


def _status(e):
    # workos 10 keeps the status on the error; workos 5 on its response.
    status = getattr(e, "status_code", None)
    response = getattr(e, "response", None)
    return status if status is not None else getattr(response, "status_code", None)


def serve(cases):
    for line in sys.stdin:
        name = line.rstrip("\n")
        try:
            result = {"case": name, "ok": True, "link": cases[name]()}
        except Exception as e:  # every error is a result to report
            result = {
                "case": name,
                "ok": False,
                "error": type(e).__name__,
                "status": _status(e),
                "requestID": getattr(e, "request_id", None),
                "retryAfter": getattr(e, "retry_after", None),
                "message": str(e)[:200],
            }
        print(json.dumps(result), flush=True)
