// The page's only ways to the service: GraphQL over HTTP, a small server-sent-events client
// for subscriptions (POST /graphql with Accept: text/event-stream), and the export endpoints.
// The operations are the .graphql files in ../operations/, loaded as text.

const operations = new Map();

/** The text of operations/NAME.graphql (fetched once). */
export async function operation(name) {
  if (!operations.has(name)) {
    const response = await fetch(`operations/${name}.graphql`);
    if (!response.ok) throw new Error(`operations/${name}.graphql: HTTP ${response.status}`);
    operations.set(name, await response.text());
  }
  return operations.get(name);
}

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

function headers(token, accept) {
  return {
    Authorization: `Bearer ${token}`,
    "Content-Type": "application/json",
    Accept: accept,
  };
}

function firstError(body, status) {
  const error = body?.errors?.[0] ?? body?.error;
  if (!error) return new ApiError(`HTTP ${status}`, "HTTP");
  const where = error.path ? ` (at ${error.path.join(".")})` : "";
  return new ApiError(`${error.message}${where}`, error.extensions?.code ?? error.code);
}

/** Run a query; its `data`, or an ApiError carrying the first error's message and code. */
export async function query(token, name, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: headers(token, "application/json"),
    body: JSON.stringify({ query: await operation(name), variables, operationName: name }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok || body === null || body.errors?.length) throw firstError(body, response.status);
  return body.data;
}

/**
 * Subscribe over server-sent events: `onData(data)` for each `next` event until `signal`
 * aborts. A stream that ends or fails is opened again after `retryMs` (the server restarts,
 * a proxy cuts idle streams); an error in a message (a revoked token) goes to `onError`
 * and ends the subscription. Returns a promise that settles once the stream is open (the
 * server has accepted the subscription).
 */
export function subscribe(token, name, variables, { onData, onError, signal, retryMs = 3000 }) {
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  const run = async () => {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: headers(token, "text/event-stream"),
      body: JSON.stringify({ query: await operation(name), variables, operationName: name }),
      signal,
    });
    if (!response.ok) throw firstError(await response.json().catch(() => null), response.status);
    opened();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "ended";
      // Lines end in CRLF, LF or CR (the SSE spec); a CR at a chunk's end waits for its LF.
      buffer += value;
      const carriage = buffer.endsWith("\r");
      buffer = (carriage ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n") + (carriage ? "\r" : "");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (event === "complete") return "complete";
        if (event !== "next" || data.length === 0) continue; // ": ping" comments and others
        const message = JSON.parse(data.join("\n"));
        if (message.errors?.length) {
          onError(firstError(message, 200));
          return "failed";
        }
        onData(message.data);
      }
    }
  };
  const loop = async () => {
    while (!signal.aborted) {
      let outcome;
      try {
        outcome = await run();
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError) {
          onError(error);
          opened();
          return;
        }
        outcome = "ended"; // the network dropped: try again
      }
      if (outcome !== "ended") return;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  loop();
  return open;
}

/** GET an export (docs/readme/exports.md) and hand it to the browser as a download. */
export async function download(token, path, params) {
  const response = await fetch(`${path}?${params}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw firstError(await response.json().catch(() => null), response.status);
  const disposition = response.headers.get("content-disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? path.split("/").pop();
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
