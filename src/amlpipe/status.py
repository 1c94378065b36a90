"""`amlpipe status`: what the workspace holds, gathered once for text or JSON."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .errors import ResourceError


def collect(backend: Optional[str], config: Optional[str], workspace: Optional[str], experiment: str) -> Dict[str, Any]:
    """Workspace, latest AutoML run, registered models, services."""
    from .workspace import connect

    ws = connect(backend, config, workspace)
    info: Dict[str, Any] = {**ws.summary(), "experiment": experiment, "latest_run": None}
    try:
        run = ws.get_experiment(experiment).get_run()
        metric = run.primary_metric
        info["latest_run"] = {
            "id": run.id, "status": run.status, "primary_metric": metric,
            "score": run.get_metrics().get(metric), "best_algorithm": run.tags.get("amlpipe.best_algorithm"),
        }
    except ResourceError:
        pass
    info["models"] = [
        {"name": m.name, "version": m.version, "algorithm": m.tags.get("algorithm"), "description": m.description}
        for m in ws.list_models()
    ]
    info["services"] = [
        {"name": s.name, "state": s.state, "scoring_uri": s.scoring_uri, "model": ":".join(map(str, s.model))}
        for s in ws.list_services()
    ]
    return info


def render(info: Dict[str, Any]) -> str:
    lines = [f"workspace  {info['workspace']} ({info['backend']}) at {info.get('location', '')}"]
    if info.get("moved_from"):
        lines[0] += f" (moved or copied from {info['moved_from']}; its paths were updated)"
    run = info["latest_run"]
    if run:
        score = f"{run['score']:.4f}" if run["score"] is not None else "n/a"
        lines.append(f"latest run {run['id']} in {info['experiment']}: {run['status']}, "
                     f"{run['primary_metric']} {score} ({run['best_algorithm']})")
    else:
        lines.append(f"latest run none in {info['experiment']}")
    lines.append("models     " + (", ".join(f"{m['name']}:{m['version']}" for m in info["models"]) or "none"))
    if info["services"]:
        for s in info["services"]:
            lines.append(f"service    {s['name']}: {s['state']} at {s['scoring_uri']} (model {s['model']})")
    else:
        lines.append("services   none")
    return "\n".join(lines)
