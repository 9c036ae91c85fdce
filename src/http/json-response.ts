// A JSON answer written on Node's own response, byte for byte what Express's res.json writes for
// this app (no ETag, no JSON spaces): the hot routes answer without Express.
import type { ServerResponse } from 'node:http';

export function writeJson(
  res: ServerResponse,
  status: number,
  body: object,
  headers?: Readonly<Record<string, string>>,
): void {
  writeJsonText(res, status, JSON.stringify(body), headers);
}

/** The same, for a body serialized already (the redirect path's fixed 404, for one). */
export function writeJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Readonly<Record<string, string>>,
): void {
  res.statusCode = status;
  if (headers !== undefined) for (const name in headers) res.setHeader(name, headers[name]!);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
