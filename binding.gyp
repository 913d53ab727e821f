{
  # The peer-credential addon of the agent's Workload API (native/peercred/peercred.c).
  # npm runs `node-gyp rebuild` for it on install; set npm_config_nodedir=/usr (or any Node
  # headers directory) so the build never downloads headers.
  "targets": [
    {
      "target_name": "steeple_peercred",
      "sources": ["native/peercred/peercred.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
