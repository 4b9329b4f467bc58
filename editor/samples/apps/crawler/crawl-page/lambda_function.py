"""Crawler, step 1: crawl one page with requests and Beautiful Soup; returns its status, title and
links. The input names the page: {"url": "https://..."}, or {"function": "crawl-target"} (and an
optional "query") for a function's URL, which this function asks Lambda for
(GetFunctionUrlConfig, with its role): so it follows Flowbench wherever it is served."""

from urllib.parse import urljoin

import boto3
import requests
from bs4 import BeautifulSoup


def page_url(event):
    if event.get("url"):
        return event["url"]
    config = boto3.client("lambda").get_function_url_config(FunctionName=event["function"])
    query = event.get("query") or ""
    return config["FunctionUrl"] + (f"?{query}" if query else "")


def lambda_handler(event, context):
    url = page_url(event)
    response = requests.get(url, timeout=10, headers={"User-Agent": "flowbench-sample-crawler"})
    ok = response.status_code < 400
    title, links = "", []
    if ok:
        page = BeautifulSoup(response.text, "html.parser")
        title = page.title.get_text(strip=True) if page.title else ""
        links = [{"text": a.get_text(strip=True), "href": urljoin(url, a["href"])}
                 for a in page.find_all("a", href=True)]
    print(f"crawled {url}: {response.status_code}, {len(links)} links")
    return {"url": url, "status": response.status_code, "ok": ok, "title": title, "links": links,
            "reason": "" if ok else f"{url} answered {response.status_code} {response.reason}"}
