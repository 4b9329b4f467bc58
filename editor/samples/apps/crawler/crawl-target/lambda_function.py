"""Crawler: the page it crawls, served by Flowbench itself through this function's URL (AuthType
NONE), so the sample works without the Internet. `?fail=500` (or any status) answers that error
instead, to watch the crawler's failure branch."""

import html

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Flowbench youth football: this week</title></head>
<body>
  <h1>This week's training</h1>
  <ul>
    <li><a href="drills/attack">Attack training</a></li>
    <li><a href="drills/passing">Passing training</a></li>
    <li><a href="drills/defence">Defence training</a></li>
  </ul>
  <p>Served at {path} by the function {name}.</p>
</body>
</html>
"""


def lambda_handler(event, context):
    query = event.get("queryStringParameters") or {}
    wanted = query.get("fail", "")
    if wanted:
        status = int(wanted) if wanted.isdigit() and 400 <= int(wanted) <= 599 else 500
        print(f"answering {status} as asked ({event.get('rawQueryString')})")
        return {"statusCode": status, "headers": {"Content-Type": "text/plain"},
                "body": f"Failing on purpose with {status}, as ?fail asked.\n"}
    path = html.escape(event.get("rawPath") or "/")
    return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"},
            "body": PAGE.format(path=path, name=html.escape(context.function_name))}
