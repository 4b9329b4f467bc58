"""Crawler, the failure branch: says why the crawl failed, whether the page answered an error
status (the Choice's default) or the crawl itself failed (the Task's Catch: $.error)."""

import json


def lambda_handler(event, context):
    if "error" in event:
        error = event["error"]
        try:
            message = json.loads(error.get("Cause") or "{}").get("errorMessage") or error.get("Cause")
        except ValueError:
            message = error.get("Cause")
        reason = f"the crawl failed with {error.get('Error')}: {message}"
    else:
        reason = event["crawl"]["reason"]
    print(f"crawl failed: {reason}")
    return {"reason": reason}
