from unionhub.migrate import run_env

run_env()
