// Flowbench's Node.js worker: loads one Lambda handler, then runs invocations until stopped.
//
// Runs inside the sandbox with Node's standard library only. Same protocol as python_worker.py:
// requests and responses travel on two pipes whose fds
// come as arguments (`node_worker.cjs REQUEST_FD RESPONSE_FD`), so nothing user code writes to
// stdout/stderr (the log pipe) can pass for a protocol message.
// Frames out: kind byte, 4-byte big-endian length, body (I ready, F init failed, R JSON response,
// E error object, D error object after which the worker exits, M out of memory). Frames in: 4-byte length + {"id","deadline","arn","client_context","event"}.
"use strict";

const fs = require("fs");
const path = require("path");
const util = require("util");
const { pathToFileURL } = require("url");

const REQUESTS = Number(process.argv[2]);
const RESPONSES = Number(process.argv[3]);
const MAX_RESPONSE = 6291556;
let currentRequestId = "";

function send(kind, body) {
  const payload = Buffer.from(body, "utf8");
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame.write(kind, 0, "latin1");
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  let offset = 0;
  while (offset < frame.length) offset += fs.writeSync(RESPONSES, frame, offset);
}

function readExact(size) {
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  while (offset < size) {
    let count;
    try {
      count = fs.readSync(REQUESTS, buffer, offset, size - offset, null);
    } catch (err) {
      if (err.code === "EAGAIN") continue;
      throw err;
    }
    if (count === 0) process.exit(0); // the host closed the request pipe: stop quietly
    offset += count;
  }
  return buffer;
}

// Lambda's Node.js runtime prefixes console lines with time, request id and level.
function installConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const text = util.format(...args).replace(/\n/g, "\r");
      fs.writeSync(1, `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
    };
  }
}

function errorObject(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      stackTrace: String(err.stack || "").split("\n"),
    };
  }
  return { errorType: typeof err, errorMessage: String(err), stackTrace: [] };
}

class LoadError extends Error {
  constructor(errorType, message, stack) {
    super(message);
    this.errorObject = { errorType, errorMessage: message, stackTrace: stack || [] };
  }
}

async function loadHandler(taskRoot, handlerName) {
  const dir = path.dirname(handlerName);
  const base = path.basename(handlerName);
  const dot = base.indexOf(".");
  if (dot <= 0 || dot === base.length - 1) {
    throw new LoadError("Runtime.MalformedHandlerName", "Bad handler");
  }
  const moduleName = base.slice(0, dot);
  const exportPath = base.slice(dot + 1).split(".");
  const stem = path.join(taskRoot, dir, moduleName);
  const file = [".js", ".mjs", ".cjs"].map((ext) => stem + ext).find((f) => fs.existsSync(f));
  if (!file) {
    throw new LoadError("Runtime.ImportModuleError",
      `Error: Cannot find module '${moduleName}'\nRequire stack:\n- /var/runtime/index.mjs`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new LoadError("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`,
        String(err.stack || "").split("\n"));
    }
    if (err && err.code === "ERR_MODULE_NOT_FOUND" || err && err.code === "MODULE_NOT_FOUND") {
      throw new LoadError("Runtime.ImportModuleError", `Error: ${err.message}`,
        String(err.stack || "").split("\n"));
    }
    const obj = errorObject(err);
    throw new LoadError(obj.errorType, obj.errorMessage, obj.stackTrace);
  }
  let handler = mod;
  for (const key of exportPath) handler = handler == null ? undefined : handler[key];
  if (handler === undefined && mod.default) {
    handler = mod.default;
    for (const key of exportPath) handler = handler == null ? undefined : handler[key];
  }
  if (typeof handler !== "function") {
    throw new LoadError("Runtime.HandlerNotFound", `${path.join(dir, base).replace(/^\.\//, "")} is undefined or not exported`);
  }
  return handler;
}

// The function's own fields of every context, read from the environment once it is the
// function's (see readIdentity), as Lambda's runtime reads them when it starts: each read of
// process.env is a call into the host.
let identity = {};
function readIdentity() {
  const env = process.env;
  identity = {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  };
}

function makeContext(request) {
  let callbackWaits = true;
  return {
    awsRequestId: request.id,
    invokedFunctionArn: request.arn,
    ...identity,
    identity: undefined,
    clientContext: request.client_context ?? undefined,
    getRemainingTimeInMillis: () => Math.max(request.deadline - Date.now(), 0),
    get callbackWaitsForEmptyEventLoop() { return callbackWaits; },
    set callbackWaitsForEmptyEventLoop(value) { callbackWaits = value; },
  };
}

// Runs the handler in promise, callback or legacy context.succeed/fail style; resolves to
// ["ok", value] or ["error", error].
function callHandler(handler, event, context) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome) => { if (!settled) { settled = true; resolve(outcome); } };
    const callback = (err, value) => finish(err != null ? ["error", err] : ["ok", value]);
    context.done = callback;
    context.succeed = (value) => callback(null, value);
    context.fail = (err) => callback(err == null ? "handled" : err);
    try {
      const result = handler(event, context, callback);
      if (result && typeof result.then === "function") {
        result.then((value) => finish(["ok", value]), (err) => finish(["error", err]));
      } else if (handler.length < 3) {
        finish(["ok", result]);
      }
    } catch (err) {
      finish(["error", err]);
    }
  });
}

function isOutOfMemory(err) {
  return err instanceof RangeError && /allocation failed|Array buffer allocation|Invalid typed array length|out of memory/i.test(err.message);
}

// An error no handler catches fails the invocation in flight, then the worker exits, as
// Lambda's Node.js runtime does (the next invocation starts a fresh worker).
let inFlight = false;
function failAndExit(errorObject) {
  if (inFlight) {
    inFlight = false;
    send("D", JSON.stringify(errorObject));
  }
  process.exit(129);
}

// Relays connections to 127.0.0.1:port (the sandbox's own loopback) to the unix socket at
// socketPath: the host's way to Flowbench's API when the function's network is off. It runs on
// the event loop, so it serves the SDK's calls, which a handler awaits.
function bridgeApi(socketPath, port) {
  const net = require("net");
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on("error", () => {});
  server.listen(port, "127.0.0.1");
  server.unref();
}

// A standby worker (started with a third argument "standby" before its function is known) says
// ready once loaded, then takes one frame {"env": the function's environment}: its code is in
// LAMBDA_TASK_ROOT by then, and it goes on as a worker started for that function.
function takeFunction() {
  send("I", "");
  const size = readExact(4).readUInt32BE(0);
  const { env } = JSON.parse(readExact(size).toString("utf8"));
  const pwd = process.env.PWD;   // what the sandbox itself set (bubblewrap's --chdir)
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env, pwd ? { PWD: pwd } : {});
  process.chdir(env.LAMBDA_TASK_ROOT);
  require("module")._initPaths();   // NODE_PATH as the function's environment gives it
}

async function main() {
  if (process.argv[4] === "standby") {
    await import("node:fs");   // starts the ES module loader, which loading the handler uses
    takeFunction();
  }
  readIdentity();
  installConsole();
  if (process.env.FLOWBENCH_API_SOCKET) {
    bridgeApi(process.env.FLOWBENCH_API_SOCKET, Number(process.env.FLOWBENCH_API_PORT));
    delete process.env.FLOWBENCH_API_SOCKET;
    delete process.env.FLOWBENCH_API_PORT;
  }
  // The SDK looks for ~/.aws/config; the worker's uid has no home of its own.
  if (process.env.FLOWBENCH_SDK_DIR && !process.env.HOME) process.env.HOME = require("os").tmpdir();
  process.on("uncaughtException", (err) => {
    console.error("Uncaught Exception", errorObject(err));
    failAndExit(errorObject(err));
  });
  process.on("unhandledRejection", (reason) => {
    const error = errorObject(reason);
    failAndExit({ errorType: "Runtime.UnhandledPromiseRejection",
      errorMessage: `${error.errorType}: ${error.errorMessage}`, stackTrace: error.stackTrace });
  });
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);
  } catch (err) {
    send("F", JSON.stringify(err instanceof LoadError ? err.errorObject : errorObject(err)));
    process.exit(0);
  }
  send("I", "");
  for (;;) {
    const size = readExact(4).readUInt32BE(0);
    const request = JSON.parse(readExact(size).toString("utf8"));
    currentRequestId = request.id;
    inFlight = true;
    const [status, value] = await callHandler(handler, request.event, makeContext(request));
    if (!inFlight) continue; // already answered by failAndExit
    inFlight = false;
    if (status === "error") {
      if (isOutOfMemory(value)) { send("M", "{}"); process.exit(137); }
      send("E", JSON.stringify(errorObject(value)));
      continue;
    }
    let body;
    try {
      body = JSON.stringify(value === undefined ? null : value);
    } catch (err) {
      send("E", JSON.stringify({ errorType: "Runtime.MarshalError",
        errorMessage: `Unable to stringify response body as json: ${err.message}`, stackTrace: [] }));
      continue;
    }
    if (Buffer.byteLength(body, "utf8") > MAX_RESPONSE) {
      send("E", JSON.stringify({ errorType: "Function.ResponseSizeTooLarge",
        errorMessage: `Response payload size (${Buffer.byteLength(body, "utf8")} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE} bytes).`,
        stackTrace: [] }));
      continue;
    }
    send("R", body);
  }
}

main();
