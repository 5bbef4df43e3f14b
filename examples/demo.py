"""One objective, one space, several backends: change one argument.

Run: python examples/demo.py
"""

import math

import hpo_bridge as hb


def objective(config: dict) -> float:
    x, y = config["x"], config["y"]
    branin = (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 + 10 * (
        1 - 1 / (8 * math.pi)) * math.cos(x) + 10
    return branin + (0.0 if config["scale"] is math.sqrt else 0.5)


space = {"x": hb.uniform(-5.0, 10.0), "y": hb.uniform(0.0, 15.0),
         "scale": hb.choice([math.sqrt, math.log1p])}

if __name__ == "__main__":
    for backend in ["hyperopt:tpe", "optuna:tpe", "skopt:gp", "optuna:random"]:
        result = hb.minimize(objective, space, backend=backend, max_evals=40, seed=0,
                             progress=False)
        print(f"{backend:16s} best={result.best_value:.4f} "
              f"scale={result.best_params['scale'].__name__}")
