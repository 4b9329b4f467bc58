"""The studio's ASGI handler (flowbench.asgi.StudioHandler): Django's middleware chain runs as one
synchronous call on the request's thread, and answers as Django's own handler does: the studio's
pages and API, the sign-in wall, the AWS APIs' door."""

import json
import threading

import pytest
from asgiref.sync import iscoroutinefunction

from flowbench.asgi import django_asgi
from flowbench.http import RequestThreads
from tests.web.asgi_calls import asgi_call

async def call(method: str, path: str, headers: list | None = None, body: bytes = b"") -> tuple[int, dict, bytes]:
    return await asgi_call(django_asgi, method, path, headers=headers, body=body)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_middleware_chain_is_one_synchronous_call():
    assert not iscoroutinefunction(django_asgi._middleware_chain)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_api_answers_401_json_to_a_request_without_a_session():
    status, headers, body = await call("GET", "/api/state-machines")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "NotSignedIn"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_page_redirects_to_the_sign_in_page_with_its_security_headers():
    status, headers, _ = await call("GET", "/")
    assert status == 302
    assert headers["location"].startswith("/login")
    assert "content-security-policy" in headers
    status, headers, body = await call("GET", headers["location"].split("?")[0])
    assert status == 200
    assert b"<form" in body


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_unsigned_aws_request_is_answered_by_the_aws_door():
    status, _, body = await call("POST", "/", [(b"x-amz-target", b"AWSStepFunctions.ListStateMachines"),
                                               (b"content-type", b"application/x-amz-json-1.0")], b"{}")
    assert status == 403
    assert json.loads(body) == {"__type": "MissingAuthenticationTokenException",
                                "message": "Missing Authentication Token"}


# --- the threads requests run on ----------------------------------------------------------------

def current() -> tuple:
    """The thread a job runs on, and the identity of its SQLite connection after a query."""
    from django.db import connection

    from editor.models import Execution

    Execution.objects.exists()
    return threading.current_thread(), id(connection.connection)


@pytest.mark.django_db(transaction=True)
def test_a_request_thread_serves_the_next_request_with_the_same_connection():
    threads = RequestThreads(idle=2)
    first = threads.submit(current).result(timeout=10)
    second = threads.submit(current).result(timeout=10)
    assert first == second
    assert threads.idle == 1


@pytest.mark.django_db(transaction=True)
def test_a_long_request_holds_up_no_other_and_idle_threads_beyond_the_limit_end():
    threads = RequestThreads(idle=1)
    release = threading.Event()
    blocked = [threads.submit(release.wait, 10) for _ in range(3)]
    assert threads.submit(current).result(timeout=10)[0].name.startswith("flowbench-request-")
    release.set()
    assert all(f.result(timeout=10) for f in blocked)
    assert threads.settle(timeout=10)
    # Four threads worked: one waits for the next request, the three others have ended.
    assert threads.idle == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_that_raises_fails_its_future_only():
    threads = RequestThreads(idle=1)
    with pytest.raises(ZeroDivisionError):
        threads.submit(lambda: 1 / 0).result(timeout=10)
    assert threads.submit(lambda: 7).result(timeout=10) == 7


@pytest.mark.django_db(transaction=True)
def test_a_transaction_left_open_ends_its_thread_and_unlocks_the_database():
    from django.db import transaction

    from editor.models import Account

    threads = RequestThreads(idle=4)

    def leak():
        transaction.atomic().__enter__()
        Account.objects.filter(pk=-1).delete()   # takes SQLite's write lock
        return threading.current_thread()

    leaked = threads.submit(leak).result(timeout=10)
    assert threads.settle(timeout=10)
    assert threads.idle == 0   # the thread ended rather than wait for the next request
    leaked.join(timeout=10)
    assert threads.submit(lambda: Account.objects.filter(pk=-1).delete()[0]).result(timeout=10) == 0
