#!/usr/bin/env python3
"""The Linux peer of the testbed: the kernel's side of the interop tests, the demo's echo server
and the Linux-to-Linux conversations the diagram is checked against.

Runs inside a namespace (`ip netns exec`) and uses only the standard library. The testbed compiles
it into its library and runs it with `python3 -c`, so the `tapstack` binary and every test run the
same script wherever they are installed. The test modes print their findings as `key=value` lines
on standard output, which the tests parse, and exit 0 only when their own checks passed. Data is
deterministic: random.Random(seed).randbytes(n).

Modes:
  client HOST PORT   connect, then exchange (see the exchange options)
  server PORT        listen, print READY, accept one connection, then exchange
  refused HOST PORT  connect must fail with ConnectionRefusedError
  abort HOST PORT    connect, send --send bytes, read their echo, then close with SO_LINGER {1, 0}
  many HOST PORT     --count concurrent connections, each sends --size bytes, half-closes and
                     must read the same bytes back before the end of stream
  synflood HOST PORT --count SYNs from spoofed sources (192.0.2.10-249, every port from 1024 up)
                     with random ISNs, written as raw frames to --device towards --mac, spread
                     over --seconds; prints flooding=1 after the first batch, then flood_sent=N
  blind HOST PORT    an off-path attacker on the connection from this host's --src-port to
                     HOST:PORT: --count segments with the kernel's addresses, cycling RST, SYN and
                     100 bytes of data, each SEQ a random offset 1..--window-1 past --base (in the
                     window, never exact), the data's ACK 2^30 to 1.5 * 2^30 past --ack-base (not
                     acceptable); prints blind_sent=N
  echo HOST PORT [TAG]  the demo's server: prints "listening", accepts one connection, sends back
                     everything it receives and closes after the client's FIN. TAG (the demo
                     passes its namespace's name) is ignored: it lets a test find the process by
                     its command line
  hello-server HOST PORT HOLD DIE  the keepalive tests' server: accepts one connection, says
                     "hello\\n", then echoes until the peer closes or HOLD seconds pass. When the
                     file DIE appears it "crashes": SO_LINGER 0 makes close() drop the socket at
                     once. Prints "crashed", "peer closed", "error ERRNO" or "server done"
  keepalive-client HOST PORT IDLE  a client with Linux keepalive at 1 s / 1 s / 3 that idles IDLE
                     seconds, then checks the connection still works: prints "ok" or the errors
Linux to Linux over the namespace's loopback (port 7000 on 127.0.0.1), each side printing what
happened:
  loopback-server    listen, print READY, accept one connection, send "hello\\n", then read
                     until end of stream, answer "ok\\n" and close
  loopback-keepalive-client  connect with TCP_KEEPIDLE/TCP_KEEPINTVL 1 s and TCP_KEEPCNT 3, read
                     the greeting, stay idle 3.5 s (the server answers the probes), send, close
  loopback-dead-client  the same keepalive settings; read the greeting, print GREETED, then wait
                     for the peer, which the test unplugs: prints closed=ERRNO when keepalive
                     gives up
  loopback-bulk-client  read the greeting, send 1 MB, half-close, read the answer, close
Exchange options:
  --send N --seed S  send N bytes, then shutdown(SHUT_WR); receive until end of stream
  --send-file PATH   send the bytes of PATH instead
  --save PATH        also write what was received to PATH
  --sequential       send everything and shut down before receiving anything
  --send-after-eof   receive until end of stream first, then send (the peer half-closed first)
  --expect-echo      fail unless what came back is exactly what was sent
  --pause S --pause-after N   send N bytes, print paused=1, stay silent S seconds (or until
                     --resume-file exists), print resumed=file|timeout, send the rest
"""

import argparse
import os
import hashlib
import random
import resource
import selectors
import socket
import struct
import sys
import threading
import time

TIMEOUT = 60  # seconds; the test's own deadline is shorter, this only stops a forgotten process


def report(**values):
    for key, value in values.items():
        print(f"{key}={value}")
    sys.stdout.flush()


def payload_of(args):
    if args.send_file:
        with open(args.send_file, "rb") as f:
            return f.read()
    return random.Random(args.seed).randbytes(args.send)


def exchange(sock, args):
    payload = payload_of(args)
    received = hashlib.sha256()
    received_bytes = 0
    saved = open(args.save, "wb") if args.save else None

    def send():
        if args.pause:
            # An idle stretch in the middle of the stream (for the blind-attack test).
            sock.sendall(payload[:args.pause_after])
            report(paused=1)
            deadline = time.monotonic() + args.pause
            while time.monotonic() < deadline:
                if args.resume_file and os.path.exists(args.resume_file):
                    break
                time.sleep(0.01)
            report(resumed="file" if args.resume_file and os.path.exists(args.resume_file)
                   else "timeout")
            sock.sendall(payload[args.pause_after:])
        else:
            sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)

    def receive():
        nonlocal received_bytes
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return
            received.update(chunk)
            received_bytes += len(chunk)
            if saved:
                saved.write(chunk)

    if args.send_after_eof:
        receive()
        send()
    elif args.sequential:
        send()
        receive()
    else:
        # Both directions at once: a large echo would otherwise fill both windows and deadlock.
        sender = threading.Thread(target=send)
        sender.start()
        receive()
        sender.join()
    if saved:
        saved.close()
    sent_sha = hashlib.sha256(payload).hexdigest()
    report(sent_bytes=len(payload), sent_sha=sent_sha, received_bytes=received_bytes,
           received_sha=received.hexdigest())
    if args.expect_echo and (received_bytes != len(payload) or received.hexdigest() != sent_sha):
        report(error="echo differs from what was sent")
        return 1
    return 0


def family_of(host):
    """The address family of a numeric host: IPv6 when it has a colon."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def run_client(args):
    sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT)
    with sock:
        return exchange(sock, args)


def run_server(args):
    # Both families on one socket (IPV6_V6ONLY off), as a Linux server bound to :: takes them.
    listener = socket.create_server(("", args.port), family=socket.AF_INET6, backlog=1,
                                    reuse_port=False, dualstack_ipv6=True)
    listener.settimeout(TIMEOUT)
    report(READY=1)
    sock, address = listener.accept()
    listener.close()
    sock.settimeout(TIMEOUT)
    report(peer=f"{address[0]}:{address[1]}")
    with sock:
        return exchange(sock, args)


def run_refused(args):
    try:
        socket.create_connection((args.host, args.port), timeout=10).close()
    except ConnectionRefusedError as error:
        report(refused=1, error=repr(error))
        return 0
    except OSError as error:
        report(refused=0, error=repr(error))
        return 1
    report(refused=0, error="connected")
    return 1


def run_abort(args):
    sock = socket.create_connection((args.host, args.port), timeout=TIMEOUT)
    data = random.Random(args.seed).randbytes(args.send)
    sock.sendall(data)
    echoed = b""
    while len(echoed) < len(data):
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        echoed += chunk
    report(echoed=int(echoed == data))
    # l_onoff=1, l_linger=0: close() discards everything and sends RST (Linux tcp_disconnect).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    report(aborted=1)
    return 0 if echoed == data else 1


class Stream:
    def __init__(self, index, size):
        self.index = index
        # Different bytes on every connection, so a mixed-up stream cannot pass.
        self.payload = random.Random(index).randbytes(size)
        self.sent = 0
        self.received = bytearray()
        self.connected = False


def run_many(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.count + 64
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(wanted, soft), hard), hard))
    selector = selectors.DefaultSelector()
    for index in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((args.host, args.port))
        selector.register(sock, selectors.EVENT_WRITE, Stream(index, args.size))
    completed = failed = 0
    errors = {}
    deadline = time.monotonic() + args.timeout
    while completed + failed < args.count and time.monotonic() < deadline:
        for key, mask in selector.select(timeout=0.5):
            sock, stream = key.fileobj, key.data
            try:
                if not stream.connected:
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if error:
                        raise OSError(error, "connect")
                    stream.connected = True
                if mask & selectors.EVENT_WRITE:
                    stream.sent += sock.send(stream.payload[stream.sent:])
                    if stream.sent == len(stream.payload):
                        sock.shutdown(socket.SHUT_WR)
                        selector.modify(sock, selectors.EVENT_READ, stream)
                if mask & selectors.EVENT_READ:
                    chunk = sock.recv(1 << 16)
                    if chunk:
                        stream.received += chunk
                        continue
                    selector.unregister(sock)
                    sock.close()
                    if stream.received == stream.payload:
                        completed += 1
                    else:
                        failed += 1
                        errors["echo differs"] = errors.get("echo differs", 0) + 1
            except BlockingIOError:
                pass
            except OSError as error:
                selector.unregister(sock)
                sock.close()
                failed += 1
                errors[repr(error)] = errors.get(repr(error), 0) + 1
    report(completed=completed, failed=failed, unfinished=args.count - completed - failed,
           errors=errors)
    return 0 if completed == args.count else 1


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_frame(src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port, seq, ack, flags,
              payload=b""):
    tcp = struct.pack("!HHIIBBHHH", src_port, dst_port, seq, ack, 5 << 4, flags, 64240, 0, 0)
    tcp += payload
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, socket.IPPROTO_TCP,
                     0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", 0x0800) + ip + tcp


def run_blind(args):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((args.device, 0))
    with open(f"/sys/class/net/{args.device}/address") as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    dst_mac = bytes.fromhex(args.mac.replace(":", ""))
    src_ip = socket.inet_aton(args.src)
    dst_ip = socket.inet_aton(args.host)
    rng = random.Random(args.seed)
    rst, syn, psh_ack = 0x04, 0x02, 0x18
    for i in range(args.count):
        seq = (args.base + rng.randrange(1, args.window)) % (1 << 32)
        kind = i % 3
        if kind == 0:
            frame = tcp_frame(src_mac, dst_mac, src_ip, dst_ip, args.src_port, args.port, seq, 0, rst)
        elif kind == 1:
            frame = tcp_frame(src_mac, dst_mac, src_ip, dst_ip, args.src_port, args.port, seq, 0, syn)
        else:
            ack = (args.ack_base + (1 << 30) + rng.randrange(1 << 29)) % (1 << 32)
            frame = tcp_frame(src_mac, dst_mac, src_ip, dst_ip, args.src_port, args.port, seq, ack,
                              psh_ack, b"X" * 100)
        raw.send(frame)
    report(blind_sent=args.count)
    return 0


def run_synflood(args):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((args.device, 0))
    dst_mac = bytes.fromhex(args.mac.replace(":", ""))
    src_mac = bytes.fromhex("02666c6f6f64")  # not the kernel's: nobody answers for it
    dst_ip = socket.inet_aton(args.host)
    rng = random.Random(args.seed)
    batch = 1000
    start = time.monotonic()
    sent = 0
    while sent < args.count:
        for _ in range(min(batch, args.count - sent)):
            src_ip = socket.inet_aton(f"192.0.2.{10 + sent % 240}")
            raw.send(tcp_frame(src_mac, dst_mac, src_ip, dst_ip, 1024 + sent // 240, args.port,
                               rng.getrandbits(32), 0, 0x02))
            sent += 1
        if sent == batch:
            report(flooding=1)
        # Spread the flood over --seconds so that it outlasts the legitimate client's transfer.
        ahead = start + args.seconds * sent / args.count - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    report(flood_sent=sent)
    return 0


def run_echo(args):
    listener = socket.socket(family_of(args.host))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1)
    print("listening", flush=True)
    conn, peer = listener.accept()
    print("accepted %s:%d" % peer[:2], flush=True)
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.close()
        print("closed", flush=True)
    except OSError as error:
        print("connection error:", error, flush=True)
    return 0


def run_hello_server(args):
    hold, die = float(args.where[2]), args.where[3]
    listener = socket.socket(family_of(args.host))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1)
    conn, _ = listener.accept()
    conn.sendall(b"hello\n")
    conn.settimeout(0.05)
    end = time.time() + hold
    while time.time() < end:
        if os.path.exists(die):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            print("crashed", flush=True)
            return 0
        try:
            data = conn.recv(4096)
        except socket.timeout:
            continue
        except OSError as error:
            print("error", error.errno, flush=True)
            return 0
        if not data:
            print("peer closed", flush=True)
            break
        conn.sendall(data)
    conn.close()
    print("server done", flush=True)
    return 0


def run_keepalive_client(args):
    idle = float(args.where[2])
    conn = socket.create_connection((args.host, args.port))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    time.sleep(idle)
    err = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    conn.sendall(b"still here\n")
    time.sleep(0.5)
    err2 = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    conn.close()
    print("ok" if err == 0 and err2 == 0 else "error %d %d" % (err, err2), flush=True)
    return 0


LOOPBACK_PORT = 7000


def loopback_keepalive_socket():
    conn = socket.create_connection(("127.0.0.1", LOOPBACK_PORT))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    return conn


def run_loopback_server(args):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", LOOPBACK_PORT))
    listener.listen(1)
    print("READY", flush=True)
    conn, _ = listener.accept()
    conn.sendall(b"hello\n")
    received = 0
    while True:
        data = conn.recv(65536)
        if not data:
            break
        received += len(data)
    conn.sendall(b"ok\n")
    conn.close()
    print(f"received={received}", flush=True)
    return 0


def run_loopback_keepalive_client(args):
    conn = loopback_keepalive_socket()
    print(conn.recv(100), flush=True)
    time.sleep(3.5)
    conn.sendall(b"bye\n")
    conn.shutdown(socket.SHUT_WR)
    print(conn.recv(100), flush=True)
    conn.close()
    return 0


def run_loopback_dead_client(args):
    conn = loopback_keepalive_socket()
    conn.recv(100)
    print("GREETED", flush=True)
    try:
        conn.recv(100)
        print("closed=0", flush=True)
    except OSError as error:
        print(f"closed={error.errno}", flush=True)
    return 0


def run_loopback_bulk_client(args):
    conn = socket.create_connection(("127.0.0.1", LOOPBACK_PORT))
    conn.recv(100)
    conn.sendall(bytes(1_000_000))
    conn.shutdown(socket.SHUT_WR)
    print(conn.recv(100), flush=True)
    conn.close()
    return 0


def main():
    parser = argparse.ArgumentParser()
    loopback = {"loopback-server": run_loopback_server,
                "loopback-keepalive-client": run_loopback_keepalive_client,
                "loopback-dead-client": run_loopback_dead_client,
                "loopback-bulk-client": run_loopback_bulk_client}
    parser.add_argument("mode", choices=["client", "server", "refused", "abort", "many", "synflood",
                                         "blind", "echo", "hello-server", "keepalive-client",
                                         *loopback])
    parser.add_argument("where", nargs="*",
                        help="HOST PORT, more for some modes; PORT for server; none for loopback")
    parser.add_argument("--send", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--send-file")
    parser.add_argument("--save")
    parser.add_argument("--sequential", action="store_true")
    parser.add_argument("--send-after-eof", action="store_true")
    parser.add_argument("--expect-echo", action="store_true")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--pause", type=float, default=0)
    parser.add_argument("--pause-after", type=int, default=0)
    parser.add_argument("--resume-file")
    parser.add_argument("--device", default="tap0")
    parser.add_argument("--mac")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--src", default="192.0.2.1")
    parser.add_argument("--src-port", type=int)
    parser.add_argument("--base", type=int)
    parser.add_argument("--window", type=int)
    parser.add_argument("--ack-base", type=int)
    args = parser.parse_args()
    if args.mode in loopback:
        return loopback[args.mode](args)
    if args.mode == "server":
        args.port = int(args.where[0])
    else:
        args.host, args.port = args.where[0], int(args.where[1])
    return {"client": run_client, "server": run_server, "refused": run_refused,
            "abort": run_abort, "many": run_many, "synflood": run_synflood,
            "blind": run_blind, "echo": run_echo, "hello-server": run_hello_server,
            "keepalive-client": run_keepalive_client}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
