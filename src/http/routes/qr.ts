// GET /api/urls/:code/qr — a QR code of the short URL (what a phone should open), SVG by default
// or PNG, drawn by the `qrcode` library. A read: any node answers from its own copy, with the same
// 404 (unknown code) and 410 (expired) as GET /api/urls/:code, so a printed code is never made for a
// link that does not work.
//
// Query options (the app's query parser is off, so this route parses its own):
//   format  svg (default) | png
//   size    width in pixels, QR_MIN_SIZE..QR_MAX_SIZE (default: the library's, 4 px per module)
//   margin  quiet zone in modules, 0..16 (default 4, what the standard asks for)
//   level   error correction L | M (default) | Q | H
import type { Express, RequestHandler } from 'express';
import QRCode from 'qrcode';
import { methodNotAllowed } from '../error-middleware.js';
import { HttpError } from '../errors.js';
import type { NodeApi } from '../node-api.js';
import { isValidCodeSyntax } from '../../domain/link-rules.js';
import { isExpired } from '../../domain/records.js';
import type { ShortUrlOf } from '../short-url.js';
import { sendExpired, unknownCode } from './codes.js';

export const QR_MIN_SIZE = 64;
export const QR_MAX_SIZE = 2048;
const MAX_MARGIN = 16;
const LEVELS = ['L', 'M', 'Q', 'H'] as const;

interface QrOptions {
  format: 'svg' | 'png';
  width?: number;
  margin: number;
  errorCorrectionLevel: (typeof LEVELS)[number];
}

const invalidOption = (message: string): HttpError => new HttpError(400, 'invalid_qr_option', message);

export function parseQrOptions(url: string): QrOptions {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const format = params.get('format') ?? 'svg';
  if (format !== 'svg' && format !== 'png') throw invalidOption('format must be "svg" or "png"');
  const options: QrOptions = { format, margin: 4, errorCorrectionLevel: 'M' };
  const size = params.get('size');
  if (size !== null) {
    const width = /^\d{1,5}$/.test(size) ? Number(size) : NaN;
    if (!(width >= QR_MIN_SIZE && width <= QR_MAX_SIZE)) {
      throw invalidOption(`size must be a whole number of pixels from ${QR_MIN_SIZE} to ${QR_MAX_SIZE}`);
    }
    options.width = width;
  }
  const margin = params.get('margin');
  if (margin !== null) {
    const modules = /^\d{1,2}$/.test(margin) ? Number(margin) : NaN;
    if (!(modules <= MAX_MARGIN))
      throw invalidOption(`margin must be a whole number from 0 to ${MAX_MARGIN}`);
    options.margin = modules;
  }
  const level = params.get('level')?.toUpperCase();
  if (level !== undefined) {
    const known = LEVELS.find((l) => l === level);
    if (known === undefined) throw invalidOption('level must be one of L, M, Q, H');
    options.errorCorrectionLevel = known;
  }
  return options;
}

export function registerQrRoute(app: Express, deps: { node: NodeApi; shortUrlOf: ShortUrlOf }): void {
  const { node, shortUrlOf } = deps;
  const qr: RequestHandler = async (req, res) => {
    const code = req.params.code as string;
    // Options first: a bad request is a 400 whether or not the code exists.
    const options = parseQrOptions(req.url);
    const record = isValidCodeSyntax(code)
      ? (node.lookup(code) ?? (await node.lookupAfterMiss(code)))
      : undefined;
    if (record === undefined) throw unknownCode();
    if (isExpired(record, Date.now())) return sendExpired(res, record);
    const { format, ...drawing } = options;
    const text = shortUrlOf(record.code);
    // The image depends on the code and the options only, but a deleted or expiring link must
    // stop getting codes soon: a short shared cache life.
    res.set('Cache-Control', 'public, max-age=300');
    if (format === 'png') {
      res.type('image/png').send(await QRCode.toBuffer(text, { ...drawing, type: 'png' }));
    } else {
      res.type('image/svg+xml').send(await QRCode.toString(text, { ...drawing, type: 'svg' }));
    }
  };
  app
    .route('/api/urls/:code/qr')
    .get(qr)
    .all(methodNotAllowed(['GET', 'HEAD']));
}
