rule download_checksums:
    output:
        f"{DOWNLOAD_DIR}/SHA256SUMS.txt",
    log:
        "logs/download/SHA256SUMS.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/download_checksums.py"


rule download_record:
    input:
        f"{DOWNLOAD_DIR}/SHA256SUMS.txt",
    output:
        multiext(f"{DOWNLOAD_DIR}/{{record}}", ".hea", ".dat", ".atr"),
    log:
        "logs/download/{record}.log",
    retries: 2
    # Downloads run where Snakemake runs (cluster compute nodes often have no internet).
    localrule: True
    conda:
        "../envs/data.yaml"
    params:
        dest=lambda wc, output: os.path.dirname(output[0]),
    script:
        "../scripts/download_record.py"
