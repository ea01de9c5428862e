/** Answers, within a deadline, whether a container runtime (Docker, Podman) is there to start testcontainers. */
import { existsSync } from 'node:fs'
import { request } from 'node:http'

function socketCandidates(): string[] {
  const candidates = ['/var/run/docker.sock', `${process.env.HOME ?? ''}/.docker/run/docker.sock`]
  if (process.env.XDG_RUNTIME_DIR) {
    candidates.push(`${process.env.XDG_RUNTIME_DIR}/docker.sock`, `${process.env.XDG_RUNTIME_DIR}/podman/podman.sock`)
  }
  return candidates.filter((path) => existsSync(path))
}

function pingSocket(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.on('error', () => resolve(false))
    req.end()
  })
}

/** True when a runtime answers a ping before `timeoutMs`; never throws. */
export async function detectContainerRuntime(timeoutMs: number): Promise<boolean> {
  if (process.env.CUTOVER_TEST_NO_CONTAINERS) return false
  const dockerHost = process.env.DOCKER_HOST
  if (dockerHost?.startsWith('unix://')) return pingSocket(dockerHost.slice('unix://'.length), timeoutMs)
  if (dockerHost) {
    // A TCP DOCKER_HOST: let testcontainers decide, bounded by the deadline.
    const { getContainerRuntimeClient } = await import('testcontainers')
    const deadline = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref())
    return Promise.race([
      getContainerRuntimeClient().then(
        () => true,
        () => false,
      ),
      deadline,
    ])
  }
  for (const socket of socketCandidates()) {
    if (await pingSocket(socket, timeoutMs)) return true
  }
  return false
}
