#!/usr/bin/python3
"""A fault-injecting FUSE filesystem for durability tests.

It passes every file through to a backing directory and remembers what a power cut would take
away: every write since the file's last fsync/fdatasync (writes through an O_DSYNC/O_SYNC
descriptor are durable at once), and every create, mkdir, unlink, rmdir and rename whose parent
directory was not fsynced since. The "lose" command undoes all of that on the backing files, as a
machine that lost power and booted again would find them. It can also make fsync or write slow
(fixed latency or random spikes), make them fail with EIO, and answer ENOSPC once a budget of
file growth is used up.

Usage: faultfs.py BACKING MOUNTPOINT --control SOCKET --trash DIR

Control: a unix socket; each request is one line of JSON, each answer one line of JSON.
  {"cmd": "ping"}
  {"cmd": "lose"}                      drop everything not durable (power cut)
  {"cmd": "faults", "faults": {...}}   replace the fault settings (see Faults.update)
  {"cmd": "stats"}                     counters and what is pending
  {"cmd": "sync-all"}                  make everything durable (an orderly shutdown)

Undo is recorded as pre-images: before a write or truncate overwrites bytes that are not yet
durable for the first time, the old bytes are kept; losing writes them back in reverse order and
truncates the file to the size it had when it was last synced. Unlinked or replaced files go to
the trash directory until the unlink is durable, so losing can bring them back.
"""

import argparse
import errno
import json
import os
import random
import shlex
import shutil
import socket
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

SYNC_FLAGS = os.O_DSYNC | getattr(os, 'O_SYNC', 0)


class FileState:
    """What a power cut would undo in one file (one backing inode, whatever its name now)."""

    def __init__(self, fd, synced_size):
        self.fd = fd  # our own descriptor: reaches the inode even after renames or unlink
        self.synced_size = synced_size
        self.undo = []  # (offset, old bytes), oldest first
        # Entries before this index belong to a failed fsync: the data is gone from the "page
        # cache" and no later fsync brings it back (fsyncgate), so they are never cleared.
        self.poisoned = 0

    def add_undo(self, offset, old):
        if old:
            self.undo.append((offset, old))

    def made_durable(self, offset, data):
        """An O_DSYNC write: these bytes survive a cut, whatever older entries say."""
        end = offset + len(data)
        for i, (o, old) in enumerate(self.undo):
            lo, hi = max(o, offset), min(o + len(old), end)
            if lo < hi:
                patched = bytearray(old)
                patched[lo - o:hi - o] = data[lo - offset:hi - offset]
                self.undo[i] = (o, bytes(patched))
        self.synced_size = max(self.synced_size, end)

    def synced(self, size):
        self.undo = self.undo[: self.poisoned]
        if self.poisoned == 0:
            self.synced_size = size

    def restore(self):
        undone = 0
        for offset, old in reversed(self.undo):
            os.pwrite(self.fd, old, offset)
            undone += len(old)
        os.ftruncate(self.fd, self.synced_size)
        return undone


class Faults:
    """Latency and failures, applied to paths containing `path` (all paths when empty)."""

    def __init__(self):
        self.update({})

    def update(self, spec):
        self.path = spec.get('path', '')
        # {"ms": fixed delay, "spikeMs": [min, max], "spikeProbability": p}
        self.fsync_delay = spec.get('fsyncDelay') or {}
        self.write_delay = spec.get('writeDelay') or {}
        # an errno name ("EIO") or null
        self.fsync_error = spec.get('fsyncError')
        self.write_error = spec.get('writeError')
        # bytes by which files may still grow before writes answer ENOSPC; null: unlimited
        self.space_bytes = spec.get('spaceBytes')

    def applies(self, path):
        return self.path in path

    @staticmethod
    def delay_of(spec):
        ms = float(spec.get('ms', 0))
        spike = spec.get('spikeMs')
        if spike and random.random() < float(spec.get('spikeProbability', 1)):
            ms += random.uniform(float(spike[0]), float(spike[1]))
        return ms / 1000.0


def errno_of(name):
    code = getattr(errno, str(name), None)
    if not isinstance(code, int):
        raise ValueError(f'unknown errno {name!r}')
    return code


class FaultFS(Operations):
    use_ns = True

    def __init__(self, backing, trash):
        self.backing = os.path.realpath(backing)
        self.trash = os.path.realpath(trash)
        os.makedirs(self.trash, exist_ok=True)
        self.mutex = threading.RLock()
        self.files = {}  # (st_dev, st_ino) -> FileState
        # Pending namespace operations, oldest first: dicts with "undo" (a callable), "dirs"
        # (parent dirs that still need an fsync) and "trash" (a trashed file to delete once durable).
        self.ops = []
        self.trash_seq = 0
        self.faults = Faults()
        self.stats = {'writes': 0, 'fsyncs': 0, 'fsyncdirs': 0, 'dsyncWrites': 0, 'losses': 0,
                      'injectedErrors': 0, 'enospc': 0, 'delayedMs': 0.0}
        self.fd_sync = {}  # fh -> opened with O_DSYNC/O_SYNC

    # ------------------------------------------------------------------ helpers

    def real(self, path):
        return os.path.join(self.backing, path.lstrip('/'))

    @staticmethod
    def parent(path):
        return os.path.dirname(path.rstrip('/')) or '/'

    def state_for_fd(self, fd):
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        state = self.files.get(key)
        if state is None:
            state = FileState(os.dup(fd), st.st_size)
            self.files[key] = state
        return state

    def forget_inode(self, key):
        state = self.files.pop(key, None)
        if state is not None:
            os.close(state.fd)

    def to_trash(self, real_path):
        self.trash_seq += 1
        dest = os.path.join(self.trash, f'{self.trash_seq}')
        os.rename(real_path, dest)
        return dest

    def record(self, dirs, undo, trash=None):
        self.ops.append({'dirs': set(dirs), 'undo': undo, 'trash': trash})

    def delay(self, spec, path):
        if not spec or not self.faults.applies(path):
            return
        seconds = Faults.delay_of(spec)
        if seconds > 0:
            self.stats['delayedMs'] += seconds * 1000
            time.sleep(seconds)

    def inject(self, name, path):
        if name and self.faults.applies(path):
            self.stats['injectedErrors'] += 1
            raise FuseOSError(errno_of(name))

    # ------------------------------------------------------------------ control

    def lose(self):
        with self.mutex:
            files = len(self.files)
            undone_bytes = 0
            for state in self.files.values():
                undone_bytes += state.restore()
            for key in list(self.files):
                self.forget_inode(key)
            ops = 0
            for op in reversed(self.ops):
                try:
                    op['undo']()
                    ops += 1
                except OSError as err:
                    print(f'faultfs: undo failed: {err}', file=sys.stderr)
            self.ops = []
            shutil.rmtree(self.trash, ignore_errors=True)
            os.makedirs(self.trash, exist_ok=True)
            self.stats['losses'] += 1
            return {'filesRestored': files, 'bytesUndone': undone_bytes, 'opsUndone': ops}

    def sync_all(self):
        with self.mutex:
            for key in list(self.files):
                self.forget_inode(key)
            self.ops = []
            shutil.rmtree(self.trash, ignore_errors=True)
            os.makedirs(self.trash, exist_ok=True)
            return {}

    def pending(self):
        with self.mutex:
            return {
                'dirtyFiles': len(self.files),
                'dirtyBytes': sum(len(o) for s in self.files.values() for _, o in s.undo),
                'pendingOps': len(self.ops),
            }

    def control(self, request):
        cmd = request.get('cmd')
        if cmd == 'ping':
            return {}
        if cmd == 'lose':
            return self.lose()
        if cmd == 'sync-all':
            return self.sync_all()
        if cmd == 'faults':
            spec = request.get('faults') or {}
            for key in ('fsyncError', 'writeError'):
                if spec.get(key):
                    errno_of(spec[key])
            with self.mutex:
                self.faults.update(spec)
            return {}
        if cmd == 'stats':
            with self.mutex:
                return {**self.stats, **self.pending()}
        raise ValueError(f'unknown command {cmd!r}')

    # ------------------------------------------------------------------ metadata

    def access(self, path, amode):
        if not os.access(self.real(path), amode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.fstat(fh.fh) if fh is not None else os.lstat(self.real(path))
        attrs = {key: getattr(st, key) for key in (
            'st_mode', 'st_nlink', 'st_size', 'st_uid', 'st_gid', 'st_blocks', 'st_ino')}
        attrs.update(st_atime=st.st_atime_ns, st_mtime=st.st_mtime_ns, st_ctime=st.st_ctime_ns)
        return attrs

    def chmod(self, path, mode):
        os.chmod(self.real(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self.real(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            os.utime(self.real(path))
        else:
            os.utime(self.real(path), ns=times)

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self.real(path))

    def opendir(self, path):
        return 0

    def statfs(self, path):
        sv = os.statvfs(self.real(path))
        return {key: getattr(sv, key) for key in (
            'f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files',
            'f_flag', 'f_frsize', 'f_namemax')}

    def readlink(self, path):
        return os.readlink(self.real(path))

    def symlink(self, target, source):
        with self.mutex:
            os.symlink(source, self.real(target))
            real = self.real(target)
            self.record([self.parent(target)], lambda: os.unlink(real))

    # ------------------------------------------------------------------ namespace

    def mkdir(self, path, mode):
        with self.mutex:
            real = self.real(path)
            os.mkdir(real, mode)
            self.record([self.parent(path)], lambda: shutil.rmtree(real))

    def rmdir(self, path):
        with self.mutex:
            real = self.real(path)
            mode = os.stat(real).st_mode & 0o7777
            os.rmdir(real)
            self.record([self.parent(path)], lambda: os.mkdir(real, mode))

    def unlink(self, path):
        with self.mutex:
            real = self.real(path)
            trashed = self.to_trash(real)
            self.record([self.parent(path)], lambda: os.rename(trashed, real), trash=trashed)

    def rename(self, old, new):
        with self.mutex:
            real_old, real_new = self.real(old), self.real(new)
            replaced = None
            if os.path.lexists(real_new) and not os.path.isdir(real_new):
                replaced = self.to_trash(real_new)
            os.rename(real_old, real_new)

            def undo():
                os.rename(real_new, real_old)
                if replaced is not None:
                    os.rename(replaced, real_new)

            self.record([self.parent(old), self.parent(new)], undo, trash=replaced)

    def link(self, target, source):
        with self.mutex:
            real = self.real(target)
            os.link(self.real(source), real)
            self.record([self.parent(target)], lambda: os.unlink(real))

    def fsyncdir(self, path, datasync, fh):
        self.delay(self.faults.fsync_delay, path)
        with self.mutex:
            self.stats['fsyncdirs'] += 1
            self.inject(self.faults.fsync_error, path)
            path = path.rstrip('/') or '/'
            keep = []
            for op in self.ops:
                op['dirs'].discard(path)
                if op['dirs']:
                    keep.append(op)
                elif op['trash'] is not None:
                    self.purge_trash(op['trash'])
            self.ops = keep

    def purge_trash(self, trashed):
        try:
            st = os.lstat(trashed)
            if st.st_nlink <= 1:
                self.forget_inode((st.st_dev, st.st_ino))
            os.unlink(trashed)
        except OSError:
            pass

    # ------------------------------------------------------------------ files

    @staticmethod
    def backing_flags(flags):
        """Our descriptor must read too (undo keeps what a write overwrites) and write at the
        offsets the kernel gives; durability is simulated, so the backing file needs no O_DSYNC."""
        drop = os.O_ACCMODE | os.O_APPEND | os.O_TRUNC | os.O_CREAT | os.O_EXCL | SYNC_FLAGS
        return (flags & ~drop) | os.O_RDWR

    def open(self, path, fi):
        if fi.flags & os.O_TRUNC:
            self.truncate(path, 0)
        try:
            fd = os.open(self.real(path), self.backing_flags(fi.flags))
        except PermissionError:
            fd = os.open(self.real(path), (self.backing_flags(fi.flags) & ~os.O_ACCMODE) | os.O_RDONLY)
        fi.fh = fd
        self.fd_sync[fd] = bool(fi.flags & SYNC_FLAGS)
        return 0

    def create(self, path, mode, fi):
        with self.mutex:
            real = self.real(path)
            existed = os.path.lexists(real)
            if not existed:
                self.check_space(path, 0, creating=True)
            elif fi.flags & os.O_EXCL:
                raise FuseOSError(errno.EEXIST)
            if existed and fi.flags & os.O_TRUNC:
                self.truncate(path, 0)
            fd = os.open(real, self.backing_flags(fi.flags) | os.O_CREAT, mode)
            fi.fh = fd
            self.fd_sync[fd] = bool(fi.flags & SYNC_FLAGS)
            if not existed:
                st = os.fstat(fd)
                key = (st.st_dev, st.st_ino)

                def undo():
                    self.forget_inode(key)
                    os.unlink(real)

                self.record([self.parent(path)], undo)
            return 0

    def read(self, path, size, offset, fi):
        return os.pread(fi.fh, size, offset)

    def check_space(self, path, growth, creating=False):
        """A full disk refuses new blocks and new files; overwriting what is allocated still works."""
        budget = self.faults.space_bytes
        if budget is None or not self.faults.applies(path):
            return
        if growth > budget or (creating and budget <= 0):
            self.stats['enospc'] += 1
            raise FuseOSError(errno.ENOSPC)
        self.faults.space_bytes = budget - growth

    def write(self, path, data, offset, fi):
        self.delay(self.faults.write_delay, path)
        with self.mutex:
            self.stats['writes'] += 1
            self.inject(self.faults.write_error, path)
            fd = fi.fh
            size = os.fstat(fd).st_size
            self.check_space(path, max(0, offset + len(data) - size))
            state = self.state_for_fd(fd)
            old = os.pread(fd, len(data), offset) if offset < size else b''
            # Bytes past the end read back as a hole: zeros, as a cut would leave them.
            state.add_undo(offset, old + bytes(len(data) - len(old)))
            written = os.pwrite(fd, data, offset)
            if self.fd_sync.get(fd):
                self.stats['dsyncWrites'] += 1
                state.made_durable(offset, data[:written])
            return written

    def truncate(self, path, length, fh=None):
        with self.mutex:
            fd = fh.fh if fh is not None else os.open(self.real(path), os.O_RDWR)
            try:
                size = os.fstat(fd).st_size
                self.check_space(path, max(0, length - size))
                state = self.state_for_fd(fd)
                if length < size:
                    state.add_undo(length, os.pread(fd, size - length, length))
                os.ftruncate(fd, length)
            finally:
                if fh is None:
                    os.close(fd)

    def fsync(self, path, datasync, fi):
        self.delay(self.faults.fsync_delay, path)
        with self.mutex:
            self.stats['fsyncs'] += 1
            fd = fi.fh
            st = os.fstat(fd)
            state = self.files.get((st.st_dev, st.st_ino))
            if self.faults.fsync_error and self.faults.applies(path):
                if state is not None:
                    state.poisoned = len(state.undo)
                self.inject(self.faults.fsync_error, path)
            if state is not None:
                state.synced(st.st_size)
                if not state.undo:
                    self.forget_inode((st.st_dev, st.st_ino))

    def flush(self, path, fi):
        return 0

    def release(self, path, fi):
        self.fd_sync.pop(fi.fh, None)
        os.close(fi.fh)
        return 0


def serve_control(fs, sock_path):
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(8)

    def handle(conn):
        with conn, conn.makefile('rwb') as stream:
            for line in stream:
                try:
                    answer = {'ok': True, **fs.control(json.loads(line))}
                except Exception as err:  # the answer carries any error back to the caller
                    answer = {'ok': False, 'error': str(err)}
                stream.write((json.dumps(answer) + '\n').encode())
                stream.flush()

    def accept():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def watch_parent(mountpoint):
    """Unmount and exit when the process that mounted us is gone (a test runner that crashed)."""
    parent = int(os.environ.get('FAULTFS_PARENT_PID', '0'))
    if parent <= 0:
        return

    def watch():
        while True:
            time.sleep(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os.system(f'fusermount3 -u -z {shlex.quote(mountpoint)} || umount -l {shlex.quote(mountpoint)}')
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('backing')
    parser.add_argument('mountpoint')
    parser.add_argument('--control', required=True)
    parser.add_argument('--trash', required=True)
    args = parser.parse_args()
    fs = FaultFS(args.backing, args.trash)
    serve_control(fs, args.control)
    watch_parent(args.mountpoint)
    # Attribute and entry caching off: after a "lose" the kernel must not serve sizes or names
    # from before it. No direct_io: LMDB maps its files, which needs the page cache.
    FUSE(fs, args.mountpoint, foreground=True, raw_fi=True, nothreads=False,
         attr_timeout=0, entry_timeout=0, negative_timeout=0, hard_remove=True,
         big_writes=True, max_write=131072, fsname='faultfs', subtype='faultfs')


if __name__ == '__main__':
    main()
