from wxpipeline.dagster_quiet import silence_known_warnings

silence_known_warnings()
