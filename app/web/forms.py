"""WTForms forms. Field names are the service's parameter names.

The services own the rules and their Chinese messages, so the forms carry almost no
validators: they give CSRF protection, rendering and the typed values back on an error.
Dates are plain strings in <input type="date"> so a bad value gets the service's message.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (HiddenField, PasswordField, SelectChoice, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

from ..domain.passwords import RULE_TEXT
from ..domain.workflow import PLATFORM_ROLES, ROLES


def put_error(form, err, fields) -> str | None:
    """Attach the service's message to the field it names; return it if no field shows it."""
    if err.field in fields and err.field in form and form[err.field].type != "HiddenField":
        form[err.field].errors = [err.message]
        return None
    return err.message


def choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    """Options for a select from a mapping or (value, label) pairs, with an optional blank first."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    out = [SelectChoice("", blank)] if blank is not None else []
    return out + [SelectChoice(str(v), label) for v, label in items]


def date_field(label: str, description: str = "", **kw) -> StringField:
    return StringField(label, widget=DateInput(), description=description, **kw)


def select_field(label: str, options, description: str = "", **kw) -> SelectField:
    # The service validates the choice (with a Chinese message); WTForms' own check is English.
    return SelectField(label, choices=options, validate_choice=False, description=description, **kw)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[InputRequired("请输入用户名")],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("密码", validators=[InputRequired("请输入密码")],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("登录")


class CalendarForm(FlaskForm):
    year = StringField("年度", widget=NumberInput(min=2000, max=2100), render_kw={"required": True})
    holidays = TextAreaField("放假日期", description="每行一个日期或区间，如 2027-02-05~2027-02-11；"
                                                  "区间内的周六、周日自动略去", render_kw={"rows": 8})
    makeup = TextAreaField("调休上班日期", description="须为周六或周日，如 2027-02-20", render_kw={"rows": 4})
    source = StringField("依据", description="如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）",
                         render_kw={"maxlength": 300})
    submit = SubmitField("保存并重新计算期限")


class CalendarRequestForm(FlaskForm):
    """An agency administrator's request to the system administrator (the calendar is national)."""

    year = StringField("年度", widget=NumberInput(min=2000, max=2100), render_kw={"required": True})
    dates = TextAreaField("涉及的日期及问题", description="如：2027-10-08 应为调休上班日，系统中为休息日",
                          render_kw={"rows": 4, "required": True, "maxlength": 2000})
    note = TextAreaField("说明", description="依据（通知文号）或其他说明", render_kw={"rows": 2, "maxlength": 2000})
    submit = SubmitField("提交修改申请")


class CalendarDecisionForm(FlaskForm):
    note = StringField("处理说明", description="不予修改的须说明理由", render_kw={"maxlength": 2000})


class UserForm(FlaskForm):
    username = StringField("用户名", description="登录名：字母、数字、下划线、点或连字符",
                           render_kw={"required": True, "maxlength": 64, "autocomplete": "off"})
    name = StringField("姓名", render_kw={"required": True, "maxlength": 100})
    password = PasswordField("初始密码", description=RULE_TEXT + "；用户首次登录时须改为自己的密码",
                             render_kw={"required": True, "autocomplete": "new-password"})
    roles = SelectMultipleField("角色", choices=choices({k: v for k, v in ROLES.items() if k not in PLATFORM_ROLES}),
                                validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    submit = SubmitField("创建用户")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("当前密码", render_kw={"required": True, "autocomplete": "current-password"})
    new_password = PasswordField("新密码", description=RULE_TEXT,
                                 render_kw={"required": True, "autocomplete": "new-password"})
    confirm_password = PasswordField("再次输入新密码", render_kw={"required": True, "autocomplete": "new-password"})
    submit = SubmitField("修改密码")


class RolesForm(FlaskForm):
    roles = SelectMultipleField("角色", choices=choices(ROLES), validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    submit = SubmitField("保存角色")


class ContactsForm(FlaskForm):
    email = StringField("电子邮箱", description="每日到期提醒、新的网上申请等通知发到这里（可不填）",
                        render_kw={"maxlength": 200, "autocomplete": "off", "inputmode": "email"})
    mobile = StringField("手机号码", description="11位中国大陆手机号码，接收短信提醒（可不填）",
                         render_kw={"maxlength": 30, "autocomplete": "off", "inputmode": "tel"})
    submit = SubmitField("保存联系方式")


class TokenForm(FlaskForm):
    submit = SubmitField("生成新令牌")


class ActionForm(FlaskForm):
    """Base of every workflow action form (see actions.py); version guards against lost updates."""

    version = HiddenField()
    submit = SubmitField("确认办理")


class ReissueForm(FlaskForm):
    """重新出具: the reason is required (the service says so); letter_id is the letter the user saw."""

    reason = TextAreaField("重新出具的理由", render_kw={"rows": 3, "required": True},
                           description="如：答复期限因征求意见顺延，回执所载期限需要更正")
    letter_id = HiddenField()
