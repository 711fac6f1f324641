"""Runs a command on a pseudo-terminal and answers its prompts.

Usage: pty_run.py '<json: {"argv": [...], "answers": [[prompt_substring, reply], ...], "size": [rows, cols], "wait": seconds}>'
A reply may be {"resize": [rows, cols]}: the terminal is resized (and SIGWINCH sent) instead of typing.
Prints a JSON object {"exit": code, "transcript": text} on stdout. Each wait is bounded; after the
last answer the output is read until the command closes the terminal, for at most "wait" seconds
(default 10; raise it for commands with slow work after their prompts, e.g. key generation).
Node has no PTY of its own; this lets tests drive hidden password prompts as a person would.
"""
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

spec = json.loads(sys.argv[1])


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


pid, fd = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])
if "size" in spec:
    set_size(fd, *spec["size"])

transcript = b""
mark = 0  # where the output after our last input starts


def pump(until=None, timeout=10.0):
    """Reads output until `until` appears after our last input (or the timeout, or EOF)."""
    global transcript
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            transcript += chunk
            if until is not None and until.encode() in transcript[mark:]:
                return True
    return False

for prompt, reply in spec["answers"]:
    if not pump(until=prompt):
        break
    if isinstance(reply, dict) and "resize" in reply:
        set_size(fd, *reply["resize"])
        os.kill(pid, signal.SIGWINCH)
        continue
    mark = len(transcript)
    os.write(fd, reply.encode() + b"\r")
pump(timeout=float(spec.get("wait", 10.0)))
_, status = os.waitpid(pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "transcript": transcript.decode("utf-8", "replace")}))
