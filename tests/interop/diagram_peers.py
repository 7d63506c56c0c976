#!/usr/bin/env python3
"""Linux-to-Linux conversations for diagram_tshark_test.cc, run inside a test namespace over its
loopback. Standard library only; each side prints what happened on standard output.

Modes (the port is always 7000 on 127.0.0.1):
  server             listen, print READY, accept one connection, send "hello\\n", then read until
                     end of stream, answer "ok\\n" and close
  keepalive-client   connect with TCP_KEEPIDLE/TCP_KEEPINTVL 1 s and TCP_KEEPCNT 3, read the
                     greeting, stay idle 3.5 s (the server answers the probes), send, close
  dead-client        the same keepalive settings; read the greeting, print GREETED, then wait
                     for the peer, which the test unplugs: prints closed=ERRNO when keepalive
                     gives up
  bulk-client        read the greeting, send 1 MB, half-close, read the answer, close
"""
import socket
import sys
import time

PORT = 7000


def keepalive_socket():
    conn = socket.create_connection(("127.0.0.1", PORT))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    return conn


def main():
    mode = sys.argv[1]
    if mode == "server":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", PORT))
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
    elif mode == "keepalive-client":
        conn = keepalive_socket()
        print(conn.recv(100), flush=True)
        time.sleep(3.5)
        conn.sendall(b"bye\n")
        conn.shutdown(socket.SHUT_WR)
        print(conn.recv(100), flush=True)
        conn.close()
    elif mode == "dead-client":
        conn = keepalive_socket()
        conn.recv(100)
        print("GREETED", flush=True)
        try:
            conn.recv(100)
            print("closed=0", flush=True)
        except OSError as error:
            print(f"closed={error.errno}", flush=True)
    elif mode == "bulk-client":
        conn = socket.create_connection(("127.0.0.1", PORT))
        conn.recv(100)
        conn.sendall(bytes(1_000_000))
        conn.shutdown(socket.SHUT_WR)
        print(conn.recv(100), flush=True)
        conn.close()
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
