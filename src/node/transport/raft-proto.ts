// Loads proto/raft.proto at runtime and describes the plain objects proto-loader produces for it.
// The file is found by walking up from this module, because the same code runs from
// src/node/transport/ (vitest) and from dist/src/node/transport/ (compiled).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_RELATIVE_PATH = join('proto', 'raft.proto');
const SERVICE_NAME = 'raft.v1.Raft';

/** Wire shapes, as proto-loader decodes them (camelCase, uint64 as number, bytes as Buffer). */
export interface ProtoEntry {
  term: number;
  index: number;
  type: number;
  data: Uint8Array;
}

export interface ProtoConfState {
  voters: number[];
  learners: number[];
}

export interface ProtoSnapshotMeta {
  index: number;
  term: number;
  confState?: ProtoConfState | null;
}

export interface ProtoMessage {
  type: number;
  from: number;
  to: number;
  term: number;
  logTerm: number;
  index: number;
  entries: ProtoEntry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  hintTerm: number;
  context: Uint8Array;
  /** null when absent on decode (proto-loader `defaults: true`); omitted when encoding. */
  snapshot?: ProtoSnapshotMeta | null;
}

export interface ProtoMessageBatch {
  clusterId: string;
  from: number;
  messages: ProtoMessage[];
}

export type ProtoSendAck = Record<string, never>;

export type SendMethod = grpc.MethodDefinition<ProtoMessageBatch, ProtoSendAck>;

export interface ProtoSnapshotChunk {
  clusterId: string;
  from: number;
  to: number;
  meta?: ProtoSnapshotMeta | null;
  offset: number;
  data: Uint8Array;
  term: number;
}

export type ProtoInstallSnapshotAck = Record<string, never>;

export type InstallSnapshotMethod = grpc.MethodDefinition<ProtoSnapshotChunk, ProtoInstallSnapshotAck>;

export interface RaftServiceDefinition extends grpc.ServiceDefinition {
  Send: SendMethod;
  InstallSnapshot: InstallSnapshotMethod;
}

/** Walks up from `startDir` to the first directory holding proto/raft.proto. */
export function findProtoFile(startDir: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = startDir; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`${PROTO_RELATIVE_PATH} not found in ${startDir} or any parent directory`);
    }
  }
}

let cached: RaftServiceDefinition | undefined;

/** The Raft service's definition (paths and (de)serializers), loaded once per process. */
export function raftService(): RaftServiceDefinition {
  if (cached === undefined) {
    const packageDefinition = protoLoader.loadSync(findProtoFile(), {
      keepCase: false, // log_term -> logTerm, matching src/raft/types.ts
      longs: Number, // terms and indexes stay below 2^53; the core works with numbers
      enums: Number, // MessageType/EntryType values equal the core's enum values
      bytes: Buffer, // entry data and context stay binary, never base64 or JSON
      defaults: true, // proto3 omits zero fields on the wire; restore them so every field exists
      oneofs: false,
    });
    cached = packageDefinition[SERVICE_NAME] as unknown as RaftServiceDefinition;
    if (cached?.Send === undefined) throw new Error(`${SERVICE_NAME}.Send missing from raft.proto`);
  }
  return cached;
}
