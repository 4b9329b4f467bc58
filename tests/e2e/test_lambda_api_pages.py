"""What the Lambda API makes, on the function page in a real browser: the execution role given
by create-function on the Configuration tab, the aliases on the Versions tab."""

from __future__ import annotations

from tests.aws.conftest import aws, fresh  # noqa: F401  (the AWS API tests' fixtures: boto3 for a person)
from tests.aws.lambda_kit import create, echo_zip, role_of


def test_the_function_page_shows_the_apis_role_and_aliases(server, browser, aws, fresh, shot):
    lam = aws(fresh, "lambda")
    name = create(aws, fresh, Publish=True, Description="made with boto3")["FunctionName"]
    lam.update_function_code(FunctionName=name, ZipFile=echo_zip("two"), Publish=True)
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1", Description="what customers run")
    lam.create_alias(FunctionName=name, Name="staging", FunctionVersion="2")

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(fresh["link"])
        page.goto(f"{server['base']}/functions/{name}/")
        page.click("button[data-tab=configuration]")
        role = page.locator("#cfg-role")
        assert role.locator("a").inner_text() == role_of(aws, fresh).rsplit("/", 1)[1]
        assert role_of(aws, fresh) in role.inner_text()
        page.click("button[data-tab=versions]")
        page.locator("#versions tbody tr td a", has_text="2").wait_for()
        rows = [[cell.strip() for cell in row.split("\t")] for row in page.locator("#aliases tbody tr").all_inner_texts()]
        assert rows == [["prod", "1", "what customers run", f"{name}:prod"], ["staging", "2", "—", f"{name}:staging"]]
        shot(page, "function-versions-aliases")
    finally:
        context.close()
