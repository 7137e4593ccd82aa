"""Where student code runs is decided once per run: the profile's place, one loader per run."""

pytest_plugins = ["pytester"]

SHOW = """
from grader.isolation import loader
from grader.course import Course

def test_where(request, student):
    course, _ = Course.containing(request.node.path)
    first, again = loader(request.config, course), loader(request.config, course)
    print("runner:", type(first.runner).__name__, "same:", first is again)
"""


def test_one_loader_per_run_in_the_place_the_profile_chooses(pytester):
    folder = pytester.mkdir("assignments") / "a0_demo"
    folder.mkdir()
    (folder / "test_where.py").write_text(SHOW)
    student = pytester.runpytest("-p", "no:cacheprovider", "-s")
    student.stdout.fnmatch_lines(["*runner: InProcess same: True*"])
    graded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--dlgrade-isolation", "worker", "--dlgrade-sandbox", "off")
    graded.stdout.fnmatch_lines(["*runner: Worker same: True*"])
