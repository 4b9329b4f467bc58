"""A Ruby function and a custom runtime (a `bootstrap` written in Ruby) with their network switch
off still reach Flowbench's API, and nothing else: their worker relays 127.0.0.1 of the sandbox to
the host's API socket, as Python's and Node.js's do. Ruby has no AWS SDK here, so the code signs its
requests itself (SigV4 with net/http and openssl, the role's temporary credentials); the role's
policy decides, as for any caller."""

from __future__ import annotations

import json

import pytest

from tests.aws.lambda_kit import unique, zipped_with_modes

# Shared by both functions: SigV4-signed POSTs to AWS_ENDPOINT_URL with the role's credentials.
CALLS = r'''require 'json'
require 'net/http'
require 'openssl'

def aws_post(service, body, content_type, target = nil)
  endpoint = URI(ENV.fetch('AWS_ENDPOINT_URL'))
  now = Time.now.utc
  stamp = now.strftime('%Y%m%dT%H%M%SZ')
  day = now.strftime('%Y%m%d')
  headers = { 'content-type' => content_type, 'host' => "#{endpoint.host}:#{endpoint.port}",
              'x-amz-date' => stamp, 'x-amz-security-token' => ENV.fetch('AWS_SESSION_TOKEN') }
  headers['x-amz-target'] = target if target
  names = headers.keys.sort
  canonical = ['POST', '/', '', names.map { |n| "#{n}:#{headers[n]}\n" }.join, names.join(';'),
               OpenSSL::Digest::SHA256.hexdigest(body)].join("\n")
  scope = "#{day}/#{ENV.fetch('AWS_REGION')}/#{service}/aws4_request"
  key = "AWS4#{ENV.fetch('AWS_SECRET_ACCESS_KEY')}"
  [day, ENV.fetch('AWS_REGION'), service, 'aws4_request'].each { |part| key = OpenSSL::HMAC.digest('SHA256', key, part) }
  signature = OpenSSL::HMAC.hexdigest('SHA256', key, ['AWS4-HMAC-SHA256', stamp, scope,
                                                       OpenSSL::Digest::SHA256.hexdigest(canonical)].join("\n"))
  request = Net::HTTP::Post.new('/')
  headers.each { |name, value| request[name] = value }
  request['authorization'] = "AWS4-HMAC-SHA256 Credential=#{ENV.fetch('AWS_ACCESS_KEY_ID')}/#{scope}, " \
                             "SignedHeaders=#{names.join(';')}, Signature=#{signature}"
  request.body = body
  response = Net::HTTP.start(endpoint.host, endpoint.port, open_timeout: 5, read_timeout: 20) { |h| h.request(request) }
  [response.code.to_i, response.body]
end

def run_calls(event)
  found = { 'endpoint' => ENV['AWS_ENDPOINT_URL'] }
  _, identity = aws_post('sts', 'Action=GetCallerIdentity&Version=2011-06-15', 'application/x-www-form-urlencoded')
  found['caller'] = identity[%r{<Arn>([^<]+)</Arn>}, 1]
  status, listed = aws_post('states', '{}', 'application/x-amz-json-1.0', 'AWSStepFunctions.ListStateMachines')
  answer = JSON.parse(listed)
  if status == 200
    found['machines'] = answer['stateMachines'].map { |m| m['name'] }
  else
    found['error'] = { 'status' => status, 'code' => answer['__type'].to_s.split('#').last,
                       'message' => answer['message'] || answer['Message'] }
  end
  begin
    Net::HTTP.get_response(URI(event['elsewhere']))
    found['elsewhere'] = 'reached'
  rescue StandardError => e
    found['elsewhere'] = "unreachable: #{e.class}"
  end
  found
end
'''

FUNCTION_RB = "require_relative 'calls'\n\ndef handler(event:, context:)\n  run_calls(event)\nend\n"

# A custom runtime in Ruby: the Runtime API loop, then the same calls.
BOOTSTRAP = r'''#!/usr/bin/ruby
require_relative 'calls'

api = "http://#{ENV.fetch('AWS_LAMBDA_RUNTIME_API')}/2018-06-01/runtime/invocation"
loop do
  got = Net::HTTP.get_response(URI("#{api}/next"))
  id = got['Lambda-Runtime-Aws-Request-Id']
  Net::HTTP.post(URI("#{api}/#{id}/response"), JSON.generate(run_calls(JSON.parse(got.body))))
end
'''

CODE = {
    "ruby": ("ruby3.3", "function.handler", [("function.rb", FUNCTION_RB, 0o100644), ("calls.rb", CALLS, 0o100644)]),
    "custom": ("provided.al2023", "function.handler", [("bootstrap", BOOTSTRAP, 0o100755),
                                                        ("calls.rb", CALLS, 0o100644)]),
}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]})


@pytest.mark.parametrize("kind", ["ruby", "custom"])
def test_with_its_network_off_the_function_reaches_the_api_as_its_role_and_nothing_else(server, aws, fresh, kind):
    iam, lam = aws(fresh, "iam"), aws(fresh, "lambda")
    role = unique("ruby-role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    machine = aws(fresh, "stepfunctions").create_state_machine(
        name=unique("m"), roleArn=role_arn,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    name = unique(kind)
    runtime, handler, entries = CODE[kind]
    # Made through the API, the function's network switch is off.
    lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=role_arn, Timeout=30,
                        Code={"ZipFile": zipped_with_modes(entries)})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)

    def invoke() -> dict:
        answer = lam.invoke(FunctionName=name, Payload=json.dumps({"elsewhere": server["base"] + "/"}))
        assert "FunctionError" not in answer, answer["Payload"].read()
        return json.loads(answer["Payload"].read())

    # No policy allows ListStateMachines yet: the API answers, and refuses it as the role.
    found = invoke()
    assert found["endpoint"].startswith("http://127.0.0.1:"), found   # the sandbox's relay
    assert found["caller"].endswith(f":assumed-role/{role}/{name}"), found
    assert found["error"]["code"] == "AccessDeniedException", found
    assert "states:ListStateMachines" in found["error"]["message"], found
    assert found["elsewhere"].startswith("unreachable"), found

    iam.put_role_policy(RoleName=role, PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:ListStateMachines",
                                                "Resource": "*"}]}))
    found = invoke()
    assert "error" not in found and machine.rsplit(":", 1)[1] in found["machines"], found
    assert found["elsewhere"].startswith("unreachable"), found
