"""The course map (ronin_lite.course): one table, times read from the executed notebooks."""

from __future__ import annotations

import json

import pytest

from ronin_lite import course


def _notebook(path, spans):
    cells = [{"cell_type": "code", "metadata": {"execution": {
        "iopub.execute_input": f"2026-12-02T04:00:{a:02d}.000000Z",
        "shell.execute_reply": f"2026-12-02T04:00:{b:02d}.500000Z"}}, "source": ""}
        for a, b in spans]
    cells.append({"cell_type": "markdown", "metadata": {}, "source": "text"})
    path.write_text(json.dumps({"cells": cells}))


def test_times_are_the_sum_of_the_recorded_cell_times(tmp_path):
    _notebook(tmp_path / "a.ipynb", [(0, 10), (20, 50)])
    assert course.executed_seconds(tmp_path / "a.ipynb") == pytest.approx(41.0)
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code",
                                                             "metadata": {}}]}))
    assert course.executed_seconds(tmp_path / "b.ipynb") is None
    assert [course.format_minutes(s) for s in (None, 30, 90, 720)] == [
        "not recorded", "< 1 min", "1.5 min", "12 min"]


def test_the_table_lists_every_lesson_with_its_measured_time(tmp_path):
    lesson = course.COURSE[2]  # a notebook that loads a shipped run
    _notebook(tmp_path / f"{lesson.number}_{lesson.stem}.ipynb", [(0, 59), (0, 30)])
    rows = course.course_table(tmp_path).splitlines()
    assert len(rows) == 2 + len(course.COURSE)
    row = rows[2 + 2]
    assert row.startswith(f"| [{lesson.number} {lesson.title}](notebooks/") and "1.5 min" in row
    assert "RONIN_RETRAIN=1" in row
    assert "not recorded" in rows[2]  # the other notebooks are not in tmp_path
    assert "](" not in course.course_table(tmp_path, links=False)


def test_update_readme_rewrites_between_the_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    start, end = course.README_MARKERS
    readme.write_text(f"# title\n\n{start}\nold table\n{end}\n\nafter\n")
    assert course.update_readme(readme, tmp_path) is True
    text = readme.read_text()
    assert text.startswith("# title\n\n") and text.endswith(f"{end}\n\nafter\n")
    assert "old table" not in text and course.course_table(tmp_path) in text
    assert course.update_readme(readme, tmp_path) is False  # nothing left to change
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="course map markers"):
        course.update_readme(readme, tmp_path)


def test_the_cpu_seconds_a_build_recorded_come_first(tmp_path):
    path = tmp_path / "a.ipynb"
    _notebook(path, [(0, 10)])
    document = json.loads(path.read_text())
    document["metadata"] = {"ronin_cpu_seconds": 95.0}
    path.write_text(json.dumps(document))
    assert course.executed_seconds(path) == 95.0
