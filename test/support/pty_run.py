"""Runs a command on a pseudo-terminal and answers its prompts.

Usage: pty_run.py '<json spec>' with the keys
  argv        the command
  answers     [[prompt, reply], ...]: waits until `prompt` (a substring, or a list of substrings
              that must all appear) shows after our last input, then replies. A reply is a string
              (typed, then Enter), {"keys": text} (written as is: "\\u0003" is Ctrl-C),
              {"wait": true} (nothing: only waits) or {"resize": [rows, cols]} (the terminal is
              resized and SIGWINCH sent).
  size        [rows, cols] of the terminal
  stderr_pty  true: stderr gets a terminal of its own (both streams are then terminals, and
              each one's output is reported apart)
  timeout     seconds each wait, and the wait for the end, may take (default 10)
Prints a JSON object {"exit": code, "transcript": text, "stderr": text} on stdout; "transcript"
is what the terminal showed (stdout only, with stderr_pty). A command still running at the end
is killed and reported with "exit": "timeout". Each wait is bounded.
Node has no PTY of its own; this lets tests drive terminals as a person would.
"""
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

spec = json.loads(sys.argv[1])
timeout = float(spec.get("timeout", 10))


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


err_master, err_slave = os.openpty() if spec.get("stderr_pty") else (None, None)
pid, fd = pty.fork()
if pid == 0:
    if err_slave is not None:
        os.dup2(err_slave, 2)
        os.close(err_slave)
        os.close(err_master)
    os.execvp(spec["argv"][0], spec["argv"])
if err_slave is not None:
    os.close(err_slave)
if "size" in spec:
    set_size(fd, *spec["size"])
    if err_master is not None:
        set_size(err_master, *spec["size"])

out = {fd: b""}
if err_master is not None:
    out[err_master] = b""
open_fds = set(out)
combined = b""  # both streams in arrival order: prompts are matched here
mark = 0  # where the output after our last input starts


def pump(until=None, limit=timeout):
    """Reads output until every `until` substring appears after our last input (or the time
    limit, or EOF on every stream)."""
    global combined
    wanted = [] if until is None else ([until] if isinstance(until, str) else until)
    deadline = time.time() + limit
    while open_fds and time.time() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], 0.1)
        for r in ready:
            try:
                chunk = os.read(r, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                open_fds.discard(r)
                continue
            out[r] += chunk
            combined += chunk
        if wanted and all(w.encode() in combined[mark:] for w in wanted):
            return True
    return False


for prompt, reply in spec["answers"]:
    if not pump(until=prompt):
        break
    if isinstance(reply, dict) and "resize" in reply:
        set_size(fd, *reply["resize"])
        os.kill(pid, signal.SIGWINCH)
        continue
    if isinstance(reply, dict) and reply.get("wait"):
        continue
    mark = len(combined)
    os.write(fd, reply["keys"].encode() if isinstance(reply, dict) else reply.encode() + b"\r")

deadline = time.time() + timeout
status = None
while status is None and time.time() < deadline:
    pump(limit=0.2)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done != 0:
        status = st
pump(limit=0.5)  # what was still in the terminals' buffers
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
code = "timeout" if status is None else os.waitstatus_to_exitcode(status)
print(json.dumps({
    "exit": code,
    "transcript": out[fd].decode("utf-8", "replace"),
    "stderr": "" if err_master is None else out[err_master].decode("utf-8", "replace"),
}))
