# Coating design (docs/design.md): children A/B/C of each parent composition by
# the paper's SHAP-guided route on the surrogate and by physics in the loop,
# both checked by the physics; the paper's Fig. 4c, Fig. 5a/b and Fig. S4. On
# when config design.enabled is true.

from constrict.design.stage import FIGURES as DESIGN_FIGURES

# Every design rule gets the design block, the convention and the seed, so a
# change of any reruns the stage.
DESIGN_PARAMS = {
    "design": config["design"],
    "convention": config["convention"],
    "random_state": config["random_state"],
    "uncertainty": config["uncertainty"],
}


# Parents x levels (and Fig. 5's levels of the first parent): the route, every
# step with its SHAP values, and the surrogate's grid optimum.
rule design_shap:
    input:
        model=design_model(config["design"]["voltage_v"]),
    output:
        children=f"{DESIGN}/shap_children.parquet",
        steps=f"{DESIGN}/shap_steps.parquet",
        shap=f"{DESIGN}/shap_values.parquet",
    log:
        f"{LOGS}/design_shap.log",
    benchmark:
        f"{BENCHMARKS}/design_shap.tsv"
    conda:
        CONDA_ENV
    threads: config["design"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        **DESIGN_PARAMS,
    script:
        "../scripts/design_shap.py"


rule design_physics:
    input:
        entries=f"{RESULTS}/entries.parquet",
        shap=f"{DESIGN}/shap_children.parquet",
    output:
        children=f"{DESIGN}/physics_children.parquet",
        trace=f"{DESIGN}/physics_trace.parquet",
    log:
        f"{LOGS}/design_physics.log",
    benchmark:
        f"{BENCHMARKS}/design_physics.tsv"
    conda:
        CONDA_ENV
    threads: config["design"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        **DESIGN_PARAMS,
    script:
        "../scripts/design_physics.py"


rule design_table:
    input:
        entries=f"{RESULTS}/entries.parquet",
        model=design_model(config["design"]["voltage_v"]),
        training=f"{RESULTS}/surrogate/training_table.parquet",
        shap=f"{DESIGN}/shap_children.parquet",
        physics=f"{DESIGN}/physics_children.parquet",
    output:
        table=f"{DESIGN}/design_table.parquet",
        tsv=report(
            f"{DESIGN}/design_table.tsv",
            caption="../report/design_table.rst",
            category="6. Design",
            labels={"table": "design table (Table S1)"},
        ),
        verification=f"{DESIGN}/verification.parquet",
    log:
        f"{LOGS}/design_table.log",
    benchmark:
        f"{BENCHMARKS}/design_table.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        **DESIGN_PARAMS,
    script:
        "../scripts/design_table.py"


rule design_fig5:
    input:
        unpack(fig5_inputs),
    output:
        table=f"{DESIGN}/fig5.parquet",
        tsv=report(
            f"{DESIGN}/fig5.tsv",
            caption="../report/design_fig5_table.rst",
            category="6. Design",
            labels={"table": "Fig. 5 and Fig. S4 data"},
        ),
    log:
        f"{LOGS}/design_fig5.log",
    benchmark:
        f"{BENCHMARKS}/design_fig5.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        **DESIGN_PARAMS,
    script:
        "../scripts/design_fig5.py"


rule design_figures:
    input:
        steps=f"{DESIGN}/shap_steps.parquet",
        shap=f"{DESIGN}/shap_values.parquet",
        trace=f"{DESIGN}/physics_trace.parquet",
        table=f"{DESIGN}/design_table.parquet",
        fig5=f"{DESIGN}/fig5.parquet",
    output:
        **{
            key: report(
                f"{DESIGN}/{name}",
                caption=f"../report/design_{key}.rst",
                category="6. Design",
                labels={"figure": label},
            )
            for key, (name, label) in DESIGN_FIGURES.items()
        },
    log:
        f"{LOGS}/design_figures.log",
    benchmark:
        f"{BENCHMARKS}/design_figures.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        **DESIGN_PARAMS,
    script:
        "../scripts/design_figures.py"
