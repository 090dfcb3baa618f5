"""Containers for tests: `docker run -d` on the host network (loopback only), stopped by id."""

import shutil
import subprocess


def docker_available() -> bool:
    """Whether a Docker engine answers."""
    return (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )


def image_present(image: str) -> bool:
    inspect = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    return inspect.returncode == 0


class Container:
    """One detached container on the host network; its processes bind to 127.0.0.1 only."""

    def __init__(self, image: str, *args: str, env: dict[str, str] | None = None, volumes=()):
        self.image, self.args = image, list(args)
        self.env = env or {}
        self.volumes = list(volumes)  # (host path, container path) pairs, read-only
        self.id: str | None = None

    def start(self) -> "Container":
        command = ["docker", "run", "-d", "--rm", "--network", "host"]
        for key, value in self.env.items():
            command += ["-e", f"{key}={value}"]
        for host, inside in self.volumes:
            command += ["-v", f"{host}:{inside}:ro"]
        result = subprocess.run([*command, self.image, *self.args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"docker run {self.image} failed: {result.stderr.strip()}")
        self.id = result.stdout.strip()
        return self

    def logs(self) -> str:
        if not self.id:
            return ""
        result = subprocess.run(["docker", "logs", self.id], capture_output=True, text=True)
        return result.stdout + result.stderr

    def stop(self) -> None:
        if self.id:
            subprocess.run(["docker", "stop", "-t", "3", self.id], capture_output=True)
            self.id = None
