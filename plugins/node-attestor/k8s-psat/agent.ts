import { readFile as fsReadFile } from 'node:fs/promises'
import { ConfigError, InvalidArgumentError } from '../../../common/errors.js'
import * as s from '../../../common/schema.js'
import type { AgentNodeAttestor, AgentNodeAttestorPlugin } from '../types.js'
import { encodePayload } from './protocol.js'

const CONFIG_PATH = 'plugins.NodeAttestor.k8s_psat'

/** Agent-side config of `k8s_psat`; keys and defaults as SPIRE's. */
export const k8sPsatAgentConfigSchema = s.object({
  /** Name of the cluster; must match a key of the server's `clusters`. */
  cluster: s.string({ nonEmpty: true }),
  /** The projected service account token (the kubelet rotates it in place). */
  token_path: s.string({ default: '/var/run/secrets/tokens/spire-agent', nonEmpty: true }),
})

export type K8sPsatAgentConfig = s.Infer<typeof k8sPsatAgentConfigSchema>

/** Agent half of `k8s_psat`: sends the cluster name and the token, read afresh each attempt. */
export class K8sPsatAgentPlugin implements AgentNodeAttestorPlugin {
  readonly #config: K8sPsatAgentConfig
  readonly #readFile: (path: string) => Promise<string>

  constructor(config: K8sPsatAgentConfig, readFile: (path: string) => Promise<string> = (path) => fsReadFile(path, 'utf8')) {
    this.#config = config
    this.#readFile = readFile
  }

  /** @throws ConfigError when token_path cannot be read or is empty. */
  async begin(): Promise<AgentNodeAttestor> {
    let token: string
    try {
      token = (await this.#readFile(this.#config.token_path)).trim()
    } catch (err) {
      throw new ConfigError(`${CONFIG_PATH}.token_path: cannot read ${this.#config.token_path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    if (token === '') throw new ConfigError(`${CONFIG_PATH}.token_path: ${this.#config.token_path} holds no token`)
    const payload = encodePayload({ cluster: this.#config.cluster, token })
    return {
      payload: async () => payload.slice(),
      answer: async () => {
        throw new InvalidArgumentError('the server sent a challenge, but k8s_psat attestation has none')
      },
    }
  }
}
