"""The one Spark the Python benchmarks measure on: local[2], a 12 GB
driver, no UI or console progress, errors only in the log. Imported by
benches/interop.py, rules.py and spark.py (run from any folder: Python puts
a script's own folder first on its path)."""


def session(**conf):
    """The local Spark session, with ``conf`` (Spark keys) set on top."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
               .config("spark.driver.memory", "12g").config("spark.ui.showConsoleProgress", "false"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def jvm_peak_kb(spark):
    """The Spark JVM's peak resident memory so far, in KB (Linux's VmHWM)."""
    jvm = spark.sparkContext._gateway.proc.pid
    with open(f"/proc/{jvm}/status") as status:
        return next(line.split()[1] for line in status if line.startswith("VmHWM"))
