/*
 * steeple_peercred: who is on the other end of a Unix socket, from the kernel.
 *
 * Node and grpc-js expose no peer credentials for Unix sockets, so the agent asks the kernel
 * directly about the fd of each accepted Workload API connection. Every function is synchronous
 * (each is one or two system calls that do not block) and throws an Error whose `code` is the
 * errno name (`ENOPROTOOPT`), with `errno` (negative, as Node's own errors) and `syscall`.
 *
 * Exports:
 *   peerCred(fd)          -> { pid, uid, gid } of the process that called connect()
 *   peerGroups(fd)        -> supplementary group ids of that process at connect() time
 *   peerPidfd(fd)         -> a pidfd for that process (SO_PEERPIDFD, or the fallback below)
 *   peerPidfdFallback(fd) -> pidfd_open() of the SO_PEERCRED pid (see the note on the fallback)
 *   pidfdAlive(pidfd)     -> false once the process has exited (zombie or reaped)
 *   closeFd(fd)
 *   hasSoPeerPidfd        -> whether this kernel answers SO_PEERPIDFD (probed once at load)
 *
 * Only Linux has these; elsewhere the addon builds and every function throws ENOSYS.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* Linux 6.5; Debian 12's headers predate it. The value is the same on every architecture that
 * uses asm-generic/socket.h (not on alpha, hppa, mips, sparc, which are not targets here). */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif
/* Linux 5.3; the syscall number is shared by all architectures. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#endif

static const char *errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case ENODATA: return "ENODATA";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOTCONN: return "ENOTCONN";
    default: return "EUNKNOWN";
  }
}

/* Throws `CODE: message, syscall` like Node's own system errors. */
static void throw_errno(napi_env env, int err, const char *syscall) {
  char message[200];
  char text[120];
  napi_value code_v, message_v, error_v, errno_v, syscall_v;

  snprintf(text, sizeof text, "%s", strerror(err));
  if (text[0] >= 'A' && text[0] <= 'Z') text[0] = (char)(text[0] - 'A' + 'a');
  snprintf(message, sizeof message, "%s: %s, %s", errno_name(err), text, syscall);

  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code_v) != napi_ok) return;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_v) != napi_ok) return;
  if (napi_create_error(env, code_v, message_v, &error_v) != napi_ok) return;
  if (napi_create_int32(env, -err, &errno_v) == napi_ok) napi_set_named_property(env, error_v, "errno", errno_v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v) == napi_ok) {
    napi_set_named_property(env, error_v, "syscall", syscall_v);
  }
  napi_throw(env, error_v);
}

/* Reads the single integer argument (an fd or a pid); throws a TypeError and returns 0 if absent. */
static int int_arg(napi_env env, napi_callback_info info, const char *what, int *out) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  int32_t value;
  char message[80];

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, argv[0], &value) != napi_ok || value < 0) {
    snprintf(message, sizeof message, "peercred: %s must be a non-negative integer", what);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  *out = value;
  return 1;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  return v;
}

#if defined(__linux__)

static int so_peerpidfd_supported = 0;

static int pidfd_open_syscall(pid_t pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  int fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  napi_value result;

  if (!int_arg(env, info, "fd", &fd)) return NULL;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw_errno(env, errno, "getsockopt(SO_PEERCRED)");
    return NULL;
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "pid", make_int(env, cred.pid));
  napi_set_named_property(env, result, "uid", make_int(env, (uint32_t)cred.uid));
  napi_set_named_property(env, result, "gid", make_int(env, (uint32_t)cred.gid));
  return result;
}

static napi_value peer_groups(napi_env env, napi_callback_info info) {
  int fd;
  gid_t small[64];
  gid_t *groups = small;
  socklen_t len = sizeof small;
  napi_value result;

  if (!int_arg(env, info, "fd", &fd)) return NULL;
  /* On ERANGE the kernel writes the size it needs into len; groups can only be that size or
   * smaller by the second call, since they are fixed at connect() time. */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
    if (errno != ERANGE) {
      throw_errno(env, errno, "getsockopt(SO_PEERGROUPS)");
      return NULL;
    }
    groups = malloc(len);
    if (groups == NULL) {
      throw_errno(env, ENOMEM, "getsockopt(SO_PEERGROUPS)");
      return NULL;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
      int err = errno;
      free(groups);
      throw_errno(env, err, "getsockopt(SO_PEERGROUPS)");
      return NULL;
    }
  }
  napi_create_array_with_length(env, len / sizeof(gid_t), &result);
  for (size_t i = 0; i < len / sizeof(gid_t); i++) {
    napi_set_element(env, result, (uint32_t)i, make_int(env, (uint32_t)groups[i]));
  }
  if (groups != small) free(groups);
  return result;
}

/*
 * The fallback for kernels without SO_PEERPIDFD (< 6.5): open a pidfd on the pid SO_PEERCRED
 * recorded at connect(). It has a window SO_PEERPIDFD does not: if the caller exits and its pid
 * is given to a new process between its connect() and this call, the pidfd names the new process.
 * The agent calls this as soon as it accepts the connection, which keeps the window to the time
 * between connect() and accept (recycling a pid needs the kernel to go through pid_max in it).
 * What the pidfd then guarantees, per call, is that the /proc facts read for attestation belong
 * to the process the pidfd names: the caller checks the pidfd after reading them.
 */
static int pidfd_from_peer_pid(int fd, const char **failed) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  int pidfd;

  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    *failed = "getsockopt(SO_PEERCRED)";
    return -1;
  }
  /* pid 0: the peer is in a pid namespace we cannot see, or there is no peer. */
  if (cred.pid <= 0) {
    errno = ESRCH;
    *failed = "getsockopt(SO_PEERCRED)";
    return -1;
  }
  pidfd = pidfd_open_syscall(cred.pid);
  if (pidfd < 0) *failed = "pidfd_open";
  return pidfd;
}

static napi_value peer_pidfd_fallback(napi_env env, napi_callback_info info) {
  int fd, pidfd;
  const char *failed = "";

  if (!int_arg(env, info, "fd", &fd)) return NULL;
  pidfd = pidfd_from_peer_pid(fd, &failed);
  if (pidfd < 0) {
    throw_errno(env, errno, failed);
    return NULL;
  }
  return make_int(env, pidfd);
}

static napi_value peer_pidfd(napi_env env, napi_callback_info info) {
  int fd, pidfd = -1;
  socklen_t len = sizeof pidfd;
  const char *failed = "";

  if (!int_arg(env, info, "fd", &fd)) return NULL;
  if (!so_peerpidfd_supported) {
    pidfd = pidfd_from_peer_pid(fd, &failed);
    if (pidfd < 0) {
      throw_errno(env, errno, failed);
      return NULL;
    }
    return make_int(env, pidfd);
  }
  /* No fallback once the kernel is known to answer SO_PEERPIDFD: an error here (EINVAL from
   * kernels that cannot make a pidfd for a reaped process, ESRCH, ENODATA) means the caller is
   * already gone, and pidfd_open() of its old pid could name a new process given the same pid. */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    throw_errno(env, errno, "getsockopt(SO_PEERPIDFD)");
    return NULL;
  }
  return make_int(env, pidfd);
}

static napi_value pidfd_alive(napi_env env, napi_callback_info info) {
  int pidfd, ready;
  struct pollfd pfd;
  napi_value result;

  if (!int_arg(env, info, "pidfd", &pidfd)) return NULL;
  pfd.fd = pidfd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  do {
    ready = poll(&pfd, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) {
    throw_errno(env, errno, "poll");
    return NULL;
  }
  if (pfd.revents & POLLNVAL) {
    throw_errno(env, EBADF, "poll");
    return NULL;
  }
  /* A pidfd polls readable once the whole thread group has exited; newer kernels add POLLHUP
   * once it is reaped. Either means the caller is gone. */
  napi_get_boolean(env, (pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0, &result);
  return result;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  int fd;

  if (!int_arg(env, info, "fd", &fd)) return NULL;
  /* Linux releases the fd even when close() reports EINTR, so it is not retried. */
  if (close(fd) != 0 && errno != EINTR) {
    throw_errno(env, errno, "close");
    return NULL;
  }
  return NULL;
}

/* Asks the kernel once, on a socket pair of our own, whether it knows SO_PEERPIDFD. Kernels
 * before 6.5 answer ENOPROTOOPT; any failure for our own live process means it is unusable here. */
static int probe_so_peerpidfd(void) {
  int sv[2], pidfd = -1;
  socklen_t len = sizeof pidfd;
  int ok;

  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  ok = getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0;
  if (ok) close(pidfd);
  close(sv[0]);
  close(sv[1]);
  return ok;
}

#else

static napi_value unsupported(napi_env env, napi_callback_info info) {
  (void)info;
  throw_errno(env, ENOSYS, "peercred (Linux only)");
  return NULL;
}
#define peer_cred unsupported
#define peer_groups unsupported
#define peer_pidfd unsupported
#define peer_pidfd_fallback unsupported
#define pidfd_alive unsupported
#define close_fd unsupported
static int so_peerpidfd_supported = 0;
static int probe_so_peerpidfd(void) { return 0; }

#endif

NAPI_MODULE_INIT() {
  napi_value has_peerpidfd;

  so_peerpidfd_supported = probe_so_peerpidfd();
  napi_get_boolean(env, so_peerpidfd_supported != 0, &has_peerpidfd);

  napi_property_descriptor props[] = {
    {"peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
    {"peerGroups", NULL, peer_groups, NULL, NULL, NULL, napi_enumerable, NULL},
    {"peerPidfd", NULL, peer_pidfd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"peerPidfdFallback", NULL, peer_pidfd_fallback, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pidfdAlive", NULL, pidfd_alive, NULL, NULL, NULL, napi_enumerable, NULL},
    {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hasSoPeerPidfd", NULL, NULL, NULL, NULL, has_peerpidfd, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
