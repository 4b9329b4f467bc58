"""Crawler, the success branch: records what the crawl found (its summary is this function's log
and result)."""


def lambda_handler(event, context):
    crawl = event["crawl"]
    summary = f"{crawl['url']}: \"{crawl['title']}\", {len(crawl['links'])} links"
    print(f"crawl succeeded: {summary}")
    for link in crawl["links"]:
        print(f"  {link['text'] or '(no text)'} -> {link['href']}")
    return {"summary": summary, "title": crawl["title"], "links": len(crawl["links"]), "status": crawl["status"]}
