// The server's HTTP API as seen by the client. Optional analyses (risk,
// downstream, plume, monitoring series) are called and a 404 is read as "not
// available on this server". The event stream is opened only when
// /api/openapi.json lists it (EventSource retries an absent route forever).

let paths = new Set();

export class ApiProblem extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function parse(res) {
  const type = res.headers.get('content-type') || '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiProblem(res.status, typeof body === 'object' ? body : null);
  return body;
}

/** Loads the list of routes the server offers. */
export async function discover() {
  try {
    const doc = await getJSON('/api/openapi.json');
    paths = new Set(Object.keys(doc.paths || {}));
  } catch {
    paths = new Set();
  }
  return paths;
}

/** Whether the server offers a route (as written in the OpenAPI document). */
export function has(path) {
  return paths.has(path);
}

export async function getJSON(url) {
  return parse(await fetch(url, { headers: { accept: 'application/json' } }));
}

export async function postJSON(url, body) {
  return parse(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  return u.toString();
}
