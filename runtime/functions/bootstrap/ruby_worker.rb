# Flowbench's Ruby worker: loads one Lambda handler, then runs invocations until stopped.
#
# The Ruby twin of python_worker.py (read its docstring for the protocol): it runs in the
# sandbox under the system Ruby with the standard library only, and speaks on two pipes of its
# own, so nothing user code prints on stdout/stderr (the log pipe) can pass for a protocol frame.
#
#   ruby_worker.rb REQUEST_FD RESPONSE_FD
#
# The handler is `file.method` (`function.handler`: method `handler` of function.rb, called as
# `handler(event:, context:)`) or `file.Module::Class.method`, as on AWS. Errors take the AWS
# Ruby runtime's shape: {errorMessage, errorType: "Function<RuntimeError>", stackTrace}; those
# while loading are "Init<...>" (a syntax error: Runtime.UserCodeSyntaxError).

require 'json'

REQUESTS = IO.for_fd(Integer(ARGV[0]), 'rb', autoclose: false)
RESPONSES = IO.for_fd(Integer(ARGV[1]), 'wb', autoclose: false)
REQUESTS.close_on_exec = true
RESPONSES.close_on_exec = true
MAX_RESPONSE = 6_291_556
WORKER_PID = Process.pid
$stdout.sync = true
$stderr.sync = true

# The context object AWS's Ruby runtime passes to a handler.
class LambdaContext
  attr_reader :aws_request_id, :invoked_function_arn, :function_name, :function_version,
              :memory_limit_in_mb, :log_group_name, :log_stream_name, :deadline_ms,
              :identity, :client_context

  def initialize(request)
    @aws_request_id = request['id']
    @invoked_function_arn = request['arn']
    @deadline_ms = request['deadline']
    @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
    @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
    @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
    @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
    @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
    @identity = nil
    @client_context = request['client_context']
  end

  # The milliseconds left before the invocation times out.
  def get_remaining_time_in_millis
    [(@deadline_ms - Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond)).to_i, 0].max
  end
end

class LoadFailure < StandardError
  attr_reader :error

  def initialize(type, message, trace = [])
    super(message)
    @error = { 'errorMessage' => message, 'errorType' => type, 'stackTrace' => trace }
  end
end

def send_frame(kind, body)
  body = body.b
  RESPONSES.write(kind + [body.bytesize].pack('N') + body)
  RESPONSES.flush
end

# The backtrace without this worker's own frames.
def user_trace(exc)
  (exc.backtrace || []).reject { |line| line.start_with?(__FILE__) }
end

def error_object(exc, prefix)
  { 'errorMessage' => exc.message, 'errorType' => "#{prefix}<#{exc.class}>",
    'stackTrace' => user_trace(exc) }
end

# Returns a callable that runs the handler, or raises LoadFailure with the runtime's error.
def load_handler(name)
  file, target = name.to_s.split('.', 2)
  if file.nil? || file.empty? || target.nil? || target.empty?
    raise LoadFailure.new('Runtime.MalformedHandlerName',
                          "Bad handler '#{name}': expected FILE.METHOD or FILE.CLASS.METHOD")
  end
  path = File.join(ENV['LAMBDA_TASK_ROOT'], "#{file}.rb")
  unless File.file?(path)
    raise LoadFailure.new('Init<LoadError>', "cannot load such file -- #{path}")
  end
  begin
    require path
  rescue SyntaxError => e
    raise LoadFailure.new('Runtime.UserCodeSyntaxError',
                          "Syntax error in #{file}.rb: #{e.message}", user_trace(e))
  rescue ScriptError, StandardError => e
    raise LoadFailure.new(*error_object(e, 'Init').values_at('errorType', 'errorMessage',
                                                             'stackTrace'))
  end
  owner_path, _, method_name = target.rpartition('.')
  owner = if owner_path.empty?
            Object.new   # a top-level `def` is a private method of every object
          else
            begin
              Object.const_get(owner_path)
            rescue NameError => e
              raise LoadFailure.new('Runtime.HandlerNotFound', e.message)
            end
          end
  unless owner.respond_to?(method_name, true)
    raise LoadFailure.new('Runtime.HandlerNotFound',
                          "Handler '#{method_name}' missing on #{owner_path.empty? ? file : owner_path}")
  end
  owner.method(method_name)
end

def leave_if_forked
  exit!(0) if Process.pid != WORKER_PID
end

def read_exact(size)
  data = REQUESTS.read(size)
  exit!(0) if data.nil? || data.bytesize != size   # the host closed the request pipe
  data
end

def answer(result)
  if result.is_a?(String) && result.encoding == Encoding::BINARY
    kind, body = 'B', result
  else
    begin
      kind, body = 'R', JSON.generate(result, quirks_mode: true)
    rescue StandardError => e
      return send_frame('E', JSON.generate('errorMessage' => "Unable to marshal response: #{e.message}",
                                           'errorType' => 'Runtime.MarshalError', 'stackTrace' => []))
    end
  end
  if body.bytesize > MAX_RESPONSE
    send_frame('E', JSON.generate(
      'errorMessage' => "Response payload size (#{body.bytesize} bytes) exceeded maximum " \
                        "allowed payload size (#{MAX_RESPONSE} bytes).",
      'errorType' => 'Function.ResponseSizeTooLarge', 'stackTrace' => []))
  else
    send_frame(kind, body)
  end
end

def run(handler)
  loop do
    size = read_exact(4).unpack1('N')
    request = JSON.parse(read_exact(size), quirks_mode: true)
    context = LambdaContext.new(request)
    begin
      result = handler.call(event: request['event'], context: context)
    rescue NoMemoryError
      leave_if_forked
      send_frame('M', '{}')
      exit!(137)
    rescue SystemExit => e
      leave_if_forked
      exit!(e.status)   # `exit` in a handler ends the runtime, as on AWS
    rescue Exception => e # rubocop:disable Lint/RescueException -- any error is the handler's
      leave_if_forked
      send_frame('E', JSON.generate(error_object(e, 'Function')))
      next
    end
    leave_if_forked
    answer(result)
  end
end

# With the network off, the way to Flowbench's API (the host's unix socket, bound into the
# sandbox): connections to 127.0.0.1:FLOWBENCH_API_PORT of the sandbox's own loopback, which the
# function's AWS_ENDPOINT_URL names, are relayed to it (the twin of api_relay.py).
def pump(source, target)
  loop { target.write(source.readpartial(65_536)) }
rescue EOFError, IOError, SystemCallError
  nil
ensure
  begin
    target.close_write
  rescue IOError, SystemCallError
    nil
  end
end

def relay_api(path, port)
  require 'socket'
  listener = TCPServer.new('127.0.0.1', port)
  Thread.new do
    loop do
      client = listener.accept
      Thread.new(client) do |inside|
        begin
          upstream = UNIXSocket.new(path)
        rescue SystemCallError
          inside.close
          next
        end
        [[inside, upstream], [upstream, inside]].map { |pair| Thread.new { pump(*pair) } }.each(&:join)
        inside.close
        upstream.close
      end
    end
  end
end

# A standby worker (a third argument "standby") is started before its function is known: it says
# ready once loaded, then takes one frame {"env": the function's environment} (its code is in
# LAMBDA_TASK_ROOT by then) and goes on as a worker started for that function.
if ARGV[2] == 'standby'
  send_frame('I', '')
  size = read_exact(4).unpack1('N')
  pwd = ENV['PWD']   # what the sandbox itself set (bubblewrap's --chdir)
  ENV.replace(JSON.parse(read_exact(size))['env'].merge(pwd ? { 'PWD' => pwd } : {}))
  Dir.chdir(ENV['LAMBDA_TASK_ROOT'])
end

api_socket = ENV.delete('FLOWBENCH_API_SOCKET')
api_port = ENV.delete('FLOWBENCH_API_PORT')
relay_api(api_socket, Integer(api_port)) if api_socket

begin
  handler = load_handler(ENV['_HANDLER'])
rescue LoadFailure => e
  send_frame('F', JSON.generate(e.error))
  exit!(0)
rescue NoMemoryError
  send_frame('M', '{}')
  exit!(137)
end
send_frame('I', '')
run(handler)
