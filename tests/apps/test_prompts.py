import pytest

from vidseg.apps.prompts import SelectionPrompt, number_prompts, parse_prompt
from vidseg.errors import InputError
from vidseg.ops.boxes import Box


def test_boxes_and_points_parse_with_and_without_an_id():
    assert parse_prompt("0:10,20,110,220", "--box") == SelectionPrompt(0, None, box=Box(10, 20, 110, 220))
    assert parse_prompt("40:5.5,7:3", "--point") == SelectionPrompt(40, 3, point=(5.5, 7.0))


@pytest.mark.parametrize("text, flag, words", [
    ("10,20,110,220", "--box", "FRAME:x0,y0,x1,y1"), ("0:10,20,110", "--box", "FRAME:x0,y0,x1,y1"),
    ("0:1,2,3,4", "--point", "FRAME:x,y"), ("a:1,2", "--point", "FRAME:x,y"),
    ("-1:1,2", "--point", "numbered from 0"), ("0:1,2:0", "--point", "1..255"), ("0:1,2:1:2", "--point", "FRAME:x,y"),
])
def test_malformed_prompts_are_one_line_errors(text, flag, words):
    with pytest.raises(InputError, match=words):
        parse_prompt(text, flag)


def test_prompts_without_an_id_are_new_objects_after_the_ones_in_use():
    prompts = [SelectionPrompt(0, None, point=(1, 1)), SelectionPrompt(5, 4, point=(2, 2)),
               SelectionPrompt(9, None, point=(3, 3))]
    assert [p.obj_id for p in number_prompts(prompts, used={1, 2})] == [5, 4, 6]
    assert [p.obj_id for p in number_prompts(prompts[:1], used=set())] == [1]


def test_a_box_reaching_outside_the_image_is_used_with_a_warning(capsys):
    from vidseg.apps.prompts import warn_if_outside

    warn_if_outside(Box(10, 10, 50, 50), 100, 80, "--box")
    assert capsys.readouterr().err == ""
    warn_if_outside(Box(-5, 10, 120, 50), 100, 80, "--box", frame=3)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--box 3:-5,10,120,50" in err and "100x80" in err and "0,10,100,50" in err
