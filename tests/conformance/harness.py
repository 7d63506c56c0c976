"""The lab of the conformance suite: a namespace with a TAP device, `tapstack nc` on its far side,
and a peer crafted with scapy on the kernel's side of the TAP.

Who is on the wire:
  - our stack, `tapstack nc`, 192.0.2.2 (MAC 02:00:00:00:00:02), attached to tap0 inside the
    namespace;
  - the scripted peer, 192.0.2.3 (MAC 02:00:00:00:00:03): frames written and read by this process
    through a packet socket on tap0, built and parsed with scapy.

The kernel must not take part in the scripted connection. It owns no address on tap0 (and IPv6 is
off in the namespace), so it answers no ARP request and has no socket that could answer the
stack's segments with a RST. The stack's frames are addressed to the peer's MAC, not tap0's, so
the kernel's IP layer drops them as PACKET_OTHERHOST anyway; only the packet socket sees them. The
peer answers the stack's ARP requests for 192.0.2.3 itself. No nftables rule is needed.

All addresses are RFC 5737 documentation addresses, and nothing leaves the namespace, which the
lab creates with a name unique to this process and deletes on every exit path.
"""

import contextlib
import ctypes
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

STACK_IP = "192.0.2.2"
STACK_MAC = "02:00:00:00:00:02"
PEER_IP = "192.0.2.3"
PEER_MAC = "02:00:00:00:00:03"
STACK_PORT = 7000
TAP = "tap0"

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_QDISC_BYPASS = 20
CLONE_NEWNET = 0x40000000

# How long a case waits for an answer that must come. Generous: the machine is shared.
ANSWER_TIMEOUT = 2.0
# How long silence must last to count as "no answer". The stack answers within a millisecond or
# two, under the sanitizers too; cases wait for silence only where no timer of the stack (delayed
# ACK, retransmission, probe) could legitimately send something in that time.
SILENCE = 0.25


class CaseFailure(AssertionError):
    """A case's expectation was not met; the message cites the RFC section."""


class Skip(Exception):
    """The lab cannot be built here (no root, no /dev/net/tun, no scapy)."""


def fail(rfc, message):
    raise CaseFailure(f"{rfc}: {message}")


def check(condition, rfc, message):
    if not condition:
        fail(rfc, message)


def seq_add(a, b):
    return (a + b) & 0xFFFFFFFF


def seq_sub(a, b):
    return (a - b) & 0xFFFFFFFF


# --- the segments the stack sends ----------------------------------------------------------------


@dataclass
class Segment:
    """A TCP segment from the stack, decoded from the frame the packet socket read."""

    flags: str  # scapy's letters: "S", "SA", "A", "PA", "R", "RA", "FA"...
    seq: int
    ack: int
    window: int
    payload: bytes
    mss: int | None = None
    wscale: int | None = None
    sack_permitted: bool = False
    timestamps: tuple | None = None  # (TSval, TSecr)
    sack_blocks: list = field(default_factory=list)  # [(left, right)], as sent
    option_kinds: list = field(default_factory=list)  # scapy's option names, in order

    def has(self, letter):
        return letter in self.flags

    def __str__(self):
        parts = [f"[{self.flags}] seq={self.seq} ack={self.ack} win={self.window}"]
        if self.payload:
            parts.append(f"len={len(self.payload)}")
        if self.mss is not None:
            parts.append(f"mss={self.mss}")
        if self.wscale is not None:
            parts.append(f"wscale={self.wscale}")
        if self.sack_permitted:
            parts.append("sackOK")
        if self.timestamps:
            parts.append(f"TS val={self.timestamps[0]} ecr={self.timestamps[1]}")
        if self.sack_blocks:
            parts.append("SACK " + " ".join(f"{l}-{r}" for l, r in self.sack_blocks))
        return " ".join(parts)


def decode_segment(tcp):
    from scapy.packet import Raw

    # Raw only: a short frame's Ethernet padding follows as scapy's Padding layer, not data.
    payload = bytes(tcp[Raw].load) if Raw in tcp else b""
    segment = Segment(flags=str(tcp.flags), seq=tcp.seq, ack=tcp.ack, window=tcp.window,
                      payload=payload)
    for name, value in tcp.options:
        segment.option_kinds.append(name)
        if name == "MSS":
            segment.mss = value
        elif name == "WScale":
            segment.wscale = value
        elif name == "SAckOK":
            segment.sack_permitted = True
        elif name == "Timestamp":
            segment.timestamps = tuple(value)
        elif name == "SAck":
            segment.sack_blocks = [(value[i], value[i + 1]) for i in range(0, len(value), 2)]
    return segment


# --- the namespace and the packet socket ---------------------------------------------------------


def _run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True)


def _setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    with open(path) as ns:
        if libc.setns(ns.fileno(), CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")


def preflight():
    """Raises Skip with what is missing for the lab."""
    if os.geteuid() != 0:
        raise Skip("needs root for network namespaces and TAP devices")
    if not os.path.exists("/dev/net/tun"):
        raise Skip("/dev/net/tun is missing")
    if shutil.which("ip") is None:
        raise Skip("the ip command (iproute2) is missing")
    try:
        import scapy.all  # noqa: F401
    except ImportError:
        raise Skip("python3-scapy is missing (scripts/install-deps.sh installs it)")


class Lab:
    """One namespace with tap0 and a packet socket on it, for every case of a run."""

    def __init__(self, tapstack, label):
        self.tapstack = tapstack
        # The testbed's name pattern for tests ("ts<pid>n<label>"): its stale-namespace cleanup
        # then knows the namespace as a test's, removable once this process is gone.
        self.netns = f"ts{os.getpid()}nconf{label}"
        self.sock = None
        self.workdir = None

    def __enter__(self):
        try:
            _run("ip", "netns", "add", self.netns)
        except subprocess.CalledProcessError as error:
            raise Skip(f"ip netns add {self.netns} failed: {error.stderr.strip()}")
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self):
        ns = ["ip", "netns", "exec", self.netns]
        # IPv6 off before tap0 exists, so the kernel sends no router or neighbour solicitations.
        _run(*ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        _run(*ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        _run("ip", "-n", self.netns, "tuntap", "add", "dev", TAP, "mode", "tap")
        _run("ip", "-n", self.netns, "link", "set", TAP, "up")
        # The packet socket must be created inside the namespace; the process goes back to its
        # own namespace afterwards (the socket stays where it was made).
        original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            _setns(f"/var/run/netns/{self.netns}")
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.sock.bind((TAP, 0))
            # Straight to the driver, past the queueing discipline: each case's nc attaches anew,
            # and until the kernel's link watch has noticed the carrier (asynchronously) the
            # device's queue drops what is sent. The TAP driver itself only needs a reader.
            self.sock.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
        finally:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.setns(original, CLONE_NEWNET)
            os.close(original)
        self.workdir = tempfile.mkdtemp(prefix="tapstack-conformance-")

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        # `ip netns del` fails while a process still runs inside; every stack is ended by its
        # case, but a crashed case must not leave the namespace behind either.
        pids = subprocess.run(["ip", "netns", "pids", self.netns], capture_output=True, text=True)
        for line in pids.stdout.split():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(line), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # Frames ---------------------------------------------------------------------------------

    def send_frame(self, frame):
        self.sock.send(bytes(frame))

    def drain(self):
        """Discards what is queued on the socket (frames of an earlier case)."""
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65535)

    def receive(self, deadline):
        """The next frame the stack sent, as a scapy Ether, or None at the deadline. ARP requests
        for the peer's address are answered on the way."""
        from scapy.layers.l2 import ARP, Ether

        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self.sock], [], [], left)[0]:
                return None
            data, address = self.sock.recvfrom(65535)
            if address[2] == PACKET_OUTGOING:
                continue  # our own frame, seen on its way out
            frame = Ether(data)
            if ARP in frame and frame[ARP].op == 1 and frame[ARP].pdst == PEER_IP:
                self.send_frame(Ether(src=PEER_MAC, dst=frame.src) /
                                ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=frame[ARP].hwsrc,
                                    pdst=frame[ARP].psrc))
                continue
            return frame

    def start_stack(self, name, args):
        return StackProcess(self, name, args)


# --- the stack: one `tapstack nc` process per case -----------------------------------------------


class StackProcess:
    """`tapstack nc` on the far side of tap0. Standard input is a pipe kept open (its end would
    half-close the connection); standard output, the received data, goes to a file."""

    def __init__(self, lab, name, args):
        self.lab = lab
        base = os.path.join(lab.workdir, name)
        self.ready = base + ".ready"
        self.stdout_path = base + ".out"
        self.stderr_path = base + ".err"
        self.pcap = base + ".pcap"
        self.events = base + ".events"
        command = [lab.tapstack, "nc", "--netns", lab.netns, "--tap", TAP,
                   "--addr", f"{STACK_IP}/24", "--mac", STACK_MAC,
                   # The plain mode: every frame the peer writes reaches the stack as written,
                   # checksum checked in software.
                   "--no-offload",
                   "--ready-file", self.ready, "--stats", "--pcap", self.pcap,
                   "--events", self.events] + list(args)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err)
        self.returncode = None

    def wait_for_event(self, event, timeout=ANSWER_TIMEOUT):
        """Waits until nc's event log (flushed line by line) has `event`, e.g. "accepted"."""
        deadline = time.monotonic() + timeout
        needle = f'"event":"{event}"'
        while True:
            with open(self.events) as log:
                if needle in log.read():
                    return True
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return False
            time.sleep(0.002)

    def wait_ready(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None:
                raise RuntimeError(f"tapstack nc exited with {self.proc.returncode} before it was "
                                   f"ready: {self.stderr()}")
            if time.monotonic() > deadline:
                raise RuntimeError("tapstack nc did not write its ready file in time")
            time.sleep(0.005)

    def write(self, data):
        """Data for the stack to send: nc reads its standard input."""
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def received(self):
        with open(self.stdout_path, "rb") as out:
            return out.read()

    def stderr(self):
        with open(self.stderr_path, "rb") as err:
            return err.read().decode(errors="replace")

    def wait_exit(self, timeout):
        """The exit status, or None if still running at the timeout."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Ends nc (SIGTERM: it still prints --stats) and returns its counters."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.close()
        return self.counters()

    def counters(self):
        counters = {}
        for line in self.stderr().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                counters[parts[0]] = int(parts[1])
        return counters


# --- the scripted connection ---------------------------------------------------------------------


@dataclass
class SynOptions:
    """What the peer's SYN (or SYN-ACK) offers."""

    mss: int | None = 1460
    wscale: int | None = None
    sack_permitted: bool = False
    timestamps: bool = False

    def scapy(self, tsval, tsecr):
        options = []
        if self.mss is not None:
            options.append(("MSS", self.mss))
        if self.sack_permitted:
            options.append(("SAckOK", b""))
        if self.timestamps:
            options.append(("Timestamp", (tsval, tsecr)))
        if self.wscale is not None:
            options.append(("NOP", None))
            options.append(("WScale", self.wscale))
        return options


class Connection:
    """One TCP connection between the scripted peer and the stack, with the peer's view of both
    sequence spaces. "snd" is the peer's sending side, "rcv" the stack's data as the peer sees
    it: rcv_nxt is the next byte expected from the stack (what the peer acknowledges)."""

    def __init__(self, lab, stack, peer_port, stack_port, syn):
        self.lab = lab
        self.stack = stack
        self.peer_port = peer_port
        self.stack_port = stack_port  # None until the stack's SYN names its ephemeral port
        self.syn = syn
        self.peer_iss = random.getrandbits(32)
        self.snd_nxt = self.peer_iss
        self.rcv_nxt = None
        self.stack_iss = None
        self.stack_syn = None  # the stack's SYN or SYN-ACK
        # The peer's window field; the stack scales it by the peer's shift when scaling is agreed.
        self.window = 8192
        self.timestamps = False  # agreed
        self.sack = False  # agreed
        self.stack_wscale = None  # the shift the stack applies to its window field, if agreed
        # The peer's timestamp clock and the last TSval taken from the stack (TS.Recent).
        self.tsval = random.randrange(1, 1 << 30)
        self.ts_recent = 0
        self.last_from_stack = None

    # Sending ------------------------------------------------------------------------------------

    def send(self, flags="A", seq=None, ack=None, payload=b"", window=None, options=None,
             timestamps=None, tsval=None, tsecr=None, advance=True):
        """Sends one segment. By default SEQ is the peer's SND.NXT, ACK the stack's next byte,
        and, once agreed, the timestamps option with the peer's clock (one tick per segment)."""
        from scapy.layers.inet import IP, TCP
        from scapy.layers.l2 import Ether

        if seq is None:
            seq = self.snd_nxt
        if ack is None:
            ack = self.rcv_nxt or 0
        if window is None:
            window = self.window
        with_timestamps = self.timestamps if timestamps is None else timestamps
        if options is None:
            options = []
            if with_timestamps:
                if tsval is None:
                    self.tsval = seq_add(self.tsval, 1)
                    tsval = self.tsval
                options = [("NOP", None), ("NOP", None),
                           ("Timestamp", (tsval, self.ts_recent if tsecr is None else tsecr))]
        segment = TCP(sport=self.peer_port, dport=self.stack_port, flags=flags, seq=seq, ack=ack,
                      window=window, options=options) / payload
        self.lab.send_frame(Ether(src=PEER_MAC, dst=STACK_MAC) /
                            IP(src=PEER_IP, dst=STACK_IP, ttl=64) / segment)
        length = len(payload) + ("S" in flags) + ("F" in flags)
        if advance and seq == self.snd_nxt:
            self.snd_nxt = seq_add(seq, length)
        return segment

    def send_data(self, payload, **kwargs):
        return self.send(flags="PA", payload=payload, **kwargs)

    def fill_window(self, rfc, segment_size=1460, flight=16):
        """Sends data until the stack advertises a zero window (its application does not read:
        `tapstack nc --no-read`): flights of `flight` segments within the advertised window,
        each flight waited for, going back to the last ACK when a frame was lost on the way.
        Returns the ACK that shows the zero window.

        The window is full when everything up to the furthest right edge any ACK showed is
        acknowledged: with window scaling (RFC 7323) the field rounds down, and an edge shown
        earlier may lie a few bytes beyond the last ACK's. The stack keeps to that edge (it never
        shrinks the window, RFC 9293 3.8.6.2.2), so those bytes are sent too."""
        shift = self.stack_wscale or 0
        self.send_data(b"w" * segment_size)
        last = self.expect(rfc, "the ACK of the first segment")
        right_edge = seq_add(last.ack, last.window << shift)
        for _ in range(1000):
            if last.ack == self.snd_nxt and last.window == 0 and last.ack == right_edge:
                return last
            self.snd_nxt = last.ack  # unchanged unless something was lost
            for _ in range(flight):
                room = seq_sub(right_edge, self.snd_nxt)
                if room == 0 or room >= 1 << 31:
                    break
                self.send_data(b"w" * min(segment_size, room))
            # Every second segment is acknowledged at once, an odd last one after the delayed-ACK
            # timer; a quiet half second means a frame was lost.
            while True:
                segment = self.next_segment(0.5)
                if segment is None:
                    break
                last = segment
                edge = seq_add(segment.ack, segment.window << shift)
                if seq_sub(edge, right_edge) < 1 << 31:
                    right_edge = edge
                if segment.ack == self.snd_nxt:
                    break
        fail(rfc, f"the stack's window did not close; last ACK {last}")

    # Receiving ----------------------------------------------------------------------------------

    def next_segment(self, timeout=ANSWER_TIMEOUT):
        """The stack's next segment on this connection, or None after `timeout`."""
        from scapy.layers.inet import IP, TCP

        deadline = time.monotonic() + timeout
        while True:
            frame = self.lab.receive(deadline)
            if frame is None:
                return None
            if TCP not in frame or frame[IP].src != STACK_IP or frame[IP].dst != PEER_IP:
                continue
            tcp = frame[TCP]
            if tcp.dport != self.peer_port:
                continue
            if self.stack_port is None and tcp.flags == "S":
                self.stack_port = tcp.sport
            if tcp.sport != self.stack_port:
                continue
            segment = decode_segment(tcp)
            self.last_from_stack = segment
            if segment.timestamps and self.timestamps:
                self.ts_recent = segment.timestamps[0]
            return segment

    def expect(self, rfc, what, timeout=ANSWER_TIMEOUT):
        """The stack's next segment, which the RFC section says must come."""
        segment = self.next_segment(timeout)
        if segment is None:
            fail(rfc, f"expected {what}, got nothing within {timeout} s")
        return segment

    def expect_silence(self, rfc, what, duration=SILENCE):
        """Fails if the stack sends anything on this connection within `duration` (a bounded wait
        that proves silence, not a sleep standing in for a condition)."""
        segment = self.next_segment(duration)
        if segment is not None:
            fail(rfc, f"expected no answer to {what}, got {segment}")

    def expect_ack(self, rfc, what, ack=None, seq=None, timeout=ANSWER_TIMEOUT):
        """A pure ACK <SEQ=SND.NXT><ACK=RCV.NXT>, the answer RFC 9293 3.10.7.4 and RFC 5961 give
        to an unacceptable segment. `ack` is the stack's RCV.NXT (the peer's snd_nxt unless
        given)."""
        segment = self.expect(rfc, f"an ACK answering {what}", timeout)
        want_ack = self.snd_nxt if ack is None else ack
        want_seq = self.rcv_nxt if seq is None else seq
        check(segment.flags == "A", rfc, f"answer to {what} has flags {segment.flags}, want A: "
                                         f"{segment}")
        check(segment.ack == want_ack, rfc, f"answer to {what} has ACK {segment.ack}, want "
                                            f"{want_ack} (RCV.NXT): {segment}")
        check(segment.seq == want_seq, rfc, f"answer to {what} has SEQ {segment.seq}, want "
                                            f"{want_seq} (SND.NXT): {segment}")
        check(not segment.payload, rfc, f"answer to {what} carries data: {segment}")
        return segment

    def finish(self, rfc, delivered=None, **counters):
        """Stops nc, then checks what its application read (`delivered`) and its counters
        (name=value; absent counts as 0). Returns every counter."""
        found = self.stack.stop()
        if delivered is not None:
            got = self.stack.received()
            check(got == delivered, rfc, f"the application read {got!r}, want {delivered!r}")
        for name, want in counters.items():
            check(found.get(name, 0) == want, rfc,
                  f"counter {name} is {found.get(name, 0)}, want {want}")
        return found

    def rcv_wnd(self):
        """RCV.WND as the stack last advertised it: the window field, scaled when agreed."""
        segment = self.last_from_stack
        shift = self.stack_wscale or 0
        if "S" in segment.flags:
            shift = 0  # RFC 7323 2.2: a SYN's window is never scaled
        return segment.window << shift

    # Handshakes ---------------------------------------------------------------------------------

    def _apply_agreement(self, stack_syn):
        self.timestamps = self.syn.timestamps and stack_syn.timestamps is not None
        self.sack = self.syn.sack_permitted and stack_syn.sack_permitted
        if self.syn.wscale is not None and stack_syn.wscale is not None:
            self.stack_wscale = stack_syn.wscale
        if self.timestamps:
            self.ts_recent = stack_syn.timestamps[0]

    def open_passive(self, complete=True):
        """The peer's SYN to the listening stack, its SYN-ACK, and (if `complete`) the ACK."""
        rfc = "RFC 9293 3.5"
        self.tsval = seq_add(self.tsval, 1)
        self.syn_tsval = self.tsval
        # Sent again, as TCP would, if the SYN-ACK does not come within a second.
        for _ in range(3):
            self.send(flags="S", seq=self.peer_iss, ack=0, window=self.window,
                      options=self.syn.scapy(self.tsval, 0), advance=False)
            synack = self.next_segment(1.0)
            if synack is not None:
                break
        else:
            fail(rfc, "expected a SYN-ACK to the peer's SYN, got nothing in 3 tries")
        self.snd_nxt = seq_add(self.peer_iss, 1)
        check(synack.flags == "SA", rfc, f"answer to a SYN is not a SYN-ACK: {synack}")
        check(synack.ack == self.snd_nxt, rfc, f"SYN-ACK acknowledges {synack.ack}, want "
                                               f"{self.snd_nxt}: {synack}")
        self.stack_syn = synack
        self.stack_iss = synack.seq
        self.rcv_nxt = seq_add(synack.seq, 1)
        self._apply_agreement(synack)
        if complete:
            self.send(flags="A")
            # The application (nc) must hold the connection before a case goes on: a RST in the
            # same burst as this ACK would reach the stack before nc accepted the connection.
            check(self.stack.wait_for_event("accepted"), rfc,
                  "nc did not accept the connection after the handshake")
        return synack

    def open_active(self, synack_options=None, complete=True):
        """The stack's SYN (nc connecting to the peer), the peer's SYN-ACK offering what
        `self.syn` says, and the stack's ACK."""
        rfc = "RFC 9293 3.5"
        syn = self.expect(rfc, "the stack's SYN")
        check(syn.flags == "S", rfc, f"the stack's first segment is not a SYN: {syn}")
        self.stack_syn = syn
        self.stack_iss = syn.seq
        self.rcv_nxt = seq_add(syn.seq, 1)
        # The stack offers everything (RFC 7323, RFC 2018); agreement is what the SYN-ACK answers.
        self.timestamps = self.syn.timestamps and syn.timestamps is not None
        self.sack = self.syn.sack_permitted and syn.sack_permitted
        if self.syn.wscale is not None and syn.wscale is not None:
            self.stack_wscale = syn.wscale
        self.tsval = seq_add(self.tsval, 1)
        tsecr = syn.timestamps[0] if syn.timestamps else 0
        self.ts_recent = tsecr
        self.send(flags="SA", options=synack_options if synack_options is not None
                  else self.syn.scapy(self.tsval, tsecr))
        if complete:
            ack = self.expect(rfc, "the stack's ACK of the SYN-ACK")
            check(ack.flags == "A" and ack.ack == self.snd_nxt, rfc,
                  f"the stack's answer to the SYN-ACK is not its ACK: {ack}")
        return syn


@contextlib.contextmanager
def passive(lab, name, syn=None, complete=True, stack_args=()):
    """A stack listening on STACK_PORT and a connection the peer opened to it."""
    lab.drain()
    stack = lab.start_stack(name, [*stack_args, "-l", str(STACK_PORT)])
    try:
        stack.wait_ready()
        conn = Connection(lab, stack, random.randrange(20000, 60000), STACK_PORT,
                          syn or SynOptions())
        conn.open_passive(complete=complete)
        yield conn
    finally:
        stack.stop()


@contextlib.contextmanager
def active(lab, name, syn=None, synack_options=None, complete=True, stack_args=()):
    """The stack (nc) connecting to the peer's STACK_PORT from an ephemeral port; `syn` is what
    the peer's SYN-ACK offers."""
    lab.drain()
    stack = lab.start_stack(name, [*stack_args, PEER_IP, str(STACK_PORT)])
    try:
        conn = Connection(lab, stack, STACK_PORT, None, syn or SynOptions())
        conn.open_active(synack_options=synack_options, complete=complete)
        yield conn
    finally:
        stack.stop()
