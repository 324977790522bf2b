from northstar_health.cli import run

run()
