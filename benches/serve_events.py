"""Event replay and a large post, two builds side by side (issue 30, item 4).

A model of 219,000 items, then an event log of 200,000 events (20 users x
10,000, about 21 MB) that the model lacks. For each binary, ROUNDS times:
the seconds from starting `gramrec serve` to listening (the replay), then
one POST of 10,000 more events for a user with 10,000 while another client posts single
events: the big post's time and the longest single-event acknowledgement
meanwhile.

Usage: python3 benches/serve_events.py OLD_BINARY NEW_BINARY [ROUNDS]
"""

import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def post(addr, path, body):
    data = json.dumps(body).encode()
    s = socket.create_connection(addr)
    s.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data
    )
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]


def run(binary, model, events, items):
    started = time.time()
    proc = subprocess.Popen(
        [binary, "serve", "--model", model, "--events", events, "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        if line.startswith("listening on http://"):
            host, port = line.strip().removeprefix("listening on http://").rsplit(":", 1)
            break
    replay = time.time() - started
    addr = (host, int(port))
    latencies, stop = [], threading.Event()

    def singles():
        n = 0
        while not stop.is_set():
            t = time.time()
            post(addr, "/v1/users/small/events", {"item": items[n % len(items)]})
            latencies.append(time.time() - t)
            n += 1

    worker = threading.Thread(target=singles)
    worker.start()
    time.sleep(0.5)
    t = time.time()
    post(addr, "/v1/users/heavy0/events", [{"item": random.choice(items)} for _ in range(10_000)])
    big = time.time() - t
    time.sleep(0.2)
    stop.set()
    worker.join()
    proc.terminate()
    proc.wait()
    return replay, big, max(latencies)


def main():
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    work = Path(tempfile.mkdtemp())
    data, model = work / "data.csv", work / "model"
    subprocess.run([new, "generate", "--users", "20000", "--items", "219000", "--nnz", "1000000", "--out", data], check=True, capture_output=True)
    subprocess.run([new, "train", "-q", "--factors", "32", "--iterations", "3", "--input", data, "--out", model], check=True)
    items = sorted({line.split(",")[1] for line in data.read_text().splitlines()[1:]})
    random.seed(1)
    now = time.time() + 1
    log = "".join(
        json.dumps({"user": f"heavy{u}", "item": random.choice(items), "weight": 1.0, "time": now, "received": now}) + "\n"
        for u in range(20) for _ in range(10_000)
    )
    print(f"{len(items)} items; log of {len(log) / 1e6:.1f} MB, 200,000 events")
    for r in range(rounds):
        for binary in (old, new):
            events = work / "events.jsonl"
            events.write_text(log)
            replay, big, worst = run(binary, str(model), str(events), items)
            print(f"round {r + 1} {binary}: replay {replay:.2f} s; 10,000-event post {big:.2f} s; "
                  f"longest single-event acknowledgement meanwhile {worst * 1000:.0f} ms")


if __name__ == "__main__":
    main()
