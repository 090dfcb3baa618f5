"""Print the stack file `docker stack deploy -c -` takes: docker-compose.yml + compose.swarm.yml.

    python -m deploy.swarm.render STACK [FILE...]   # FILE: more overlays; reads .env

`docker compose config` merges the two files (applying their !reset/!override tags), reads .env,
interpolates and resolves paths. Its output is the Compose model, which the Docker CLI's stack
loader (Compose file format 3) reads with other types; this converts the few that differ
(checked with Docker 28.5 and Compose 2.40):

- no top-level `name` ("Additional property name is not allowed"): the stack name is given to
  `docker stack deploy` instead;
- `deploy.resources.*.cpus` as a string ("must be a string"; Compose writes a number);
- `ports[].published` as an integer ("must be a integer"; Compose writes a string);
- `tmpfs.size` of a mount as an integer (the same);
- no `x-*` extension fields (Compose keeps them; they configure nothing).
"""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILES = (REPO / "docker-compose.yml", Path(__file__).resolve().parent / "compose.swarm.yml")


def compose_model(project: str, extra_files: list[str]) -> dict:
    """The merged, interpolated Compose model of both files and `extra_files`."""
    command = ["docker", "compose", "--project-directory", str(REPO), "-p", project]
    for path in (*COMPOSE_FILES, *extra_files):
        command += ["-f", str(path)]
    result = subprocess.run([*command, "config"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"docker compose config failed: {result.stderr.strip()}")
    return yaml.safe_load(result.stdout)


def to_stack_file(model: dict) -> dict:
    """Convert the Compose model's types to those of the stack loader."""
    stack = {key: value for key, value in model.items() if key != "name" and key[:2] != "x-"}
    for service in stack["services"].values():
        resources = service.get("deploy", {}).get("resources", {})
        for kind in ("limits", "reservations"):
            if "cpus" in resources.get(kind, {}):
                resources[kind]["cpus"] = str(resources[kind]["cpus"])
        for port in service.get("ports", []):
            if "published" in port:
                port["published"] = int(port["published"])
        for volume in service.get("volumes", []):
            if "size" in volume.get("tmpfs", {}):
                volume["tmpfs"]["size"] = int(volume["tmpfs"]["size"])
    return stack


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m deploy.swarm.render STACK [FILE...]")
    model = compose_model(sys.argv[1], sys.argv[2:])
    yaml.safe_dump(to_stack_file(model), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
