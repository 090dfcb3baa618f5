"""Named numbers that tests record and pytest prints in its terminal summary.

MEASUREMENTS = Measurements("Compose stack measurements")   # in a conftest.py
MEASUREMENTS.record("scale_up", seconds=1.2)                  # in a test
def pytest_terminal_summary(terminalreporter):                # in the same conftest.py
    MEASUREMENTS.write(terminalreporter)
"""


class Measurements:
    def __init__(self, title: str):
        self.title = title
        self.sections: dict[str, dict[str, object]] = {}

    def record(self, section: str, **values) -> None:
        self.sections.setdefault(section, {}).update(values)

    def write(self, terminalreporter) -> None:
        if not self.sections:
            return
        terminalreporter.section(self.title)
        for section, values in self.sections.items():
            shown = ", ".join(
                f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
                for name, value in values.items()
            )
            terminalreporter.write_line(f"{section}: {shown}")


# One for the whole session (tests/conftest.py prints it): sections name their suite.
MEASUREMENTS = Measurements("Measured numbers of the stack tests")
