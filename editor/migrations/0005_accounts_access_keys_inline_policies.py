"""Each person becomes an AWS account with access keys; a role's one policy becomes its first named
inline policy, and roles get IAM's id, path, tags and maximum session duration.

Existing people get their account here: the first administrator keeps FLOWBENCH_ACCOUNT_ID (the one
account every ARN named until now), everyone else gets a fresh id, and the ARNs their roles'
policies and their state machines' definitions name are rewritten to it, so what ran before runs
the same after.
"""

import re
import secrets
import string

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FIRST_POLICY_NAME = "flowbench-policy"


def _arn_account(old: str):
    # The account field of an ARN: arn:<partition>:<service>:<region>:<account>:...
    return re.compile(r"(arn:[\w-]+:[\w-]*:[\w-]*:)" + re.escape(old) + r"(:)")


def _rewrite(value, pattern, new: str):
    """Returns `value` (text, or JSON data) with the old account id of every ARN replaced."""
    if isinstance(value, str):
        return pattern.sub(lambda m: m.group(1) + new + m.group(2), value)
    if isinstance(value, list):
        return [_rewrite(v, pattern, new) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, pattern, new) for k, v in value.items()}
    return value


def forwards(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Account = apps.get_model("editor", "Account")
    Role = apps.get_model("editor", "Role")
    RolePolicy = apps.get_model("editor", "RolePolicy")
    StateMachine = apps.get_model("editor", "StateMachine")
    StateMachineVersion = apps.get_model("editor", "StateMachineVersion")
    old = settings.FLOWBENCH_ACCOUNT_ID
    pattern = _arn_account(old)
    first_admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    taken = {old}
    for user in User.objects.order_by("pk"):
        if first_admin is not None and user.pk == first_admin.pk:
            Account.objects.create(user=user, account_id=old)
            continue
        number = old
        while number in taken:
            number = f"{secrets.randbelow(10 ** 12):012d}"
        taken.add(number)
        Account.objects.create(user=user, account_id=number)
        for machine in StateMachine.objects.filter(owner=user):
            machine.definition = _rewrite(machine.definition, pattern, number)
            machine.save(update_fields=["definition"])
        for version in StateMachineVersion.objects.filter(machine__owner=user):
            version.definition = _rewrite(version.definition, pattern, number)
            version.role_policy = _rewrite(version.role_policy, pattern, number)
            version.save(update_fields=["definition", "role_policy"])
        for role in Role.objects.filter(owner=user):
            role.policy = _rewrite(role.policy, pattern, number)
            role.save(update_fields=["policy"])
    alphabet = string.ascii_uppercase + string.digits
    for role in Role.objects.all():
        role.role_id = "AROA" + "".join(secrets.choice(alphabet) for _ in range(17))
        role.save(update_fields=["role_id"])
        if role.policy:
            RolePolicy.objects.create(role=role, name=FIRST_POLICY_NAME, document=role.policy)


class Migration(migrations.Migration):

    dependencies = [
        ('editor', '0004_functions_network_off_by_default'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Account',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('account_id', models.CharField(max_length=12, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='aws_account',
                                              to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='AccessKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('access_key_id', models.CharField(max_length=20, unique=True)),
                ('secret_encrypted', models.TextField()),
                ('status', models.CharField(choices=[('Active', 'Active'), ('Inactive', 'Inactive')], default='Active',
                                            max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('last_used_service', models.CharField(blank=True, default='', max_length=64)),
                ('last_used_region', models.CharField(blank=True, default='', max_length=32)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='access_keys',
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={'ordering': ['created_at', 'id']},
        ),
        migrations.CreateModel(
            name='RolePolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=128)),
                ('document', models.JSONField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('role', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inline_policies',
                                           to='editor.role')),
            ],
            options={'ordering': ['name'],
                     'constraints': [models.UniqueConstraint(fields=('role', 'name'), name='role_policy_name_unique')]},
        ),
        migrations.AddField(model_name='role', name='role_id', field=models.CharField(default='', max_length=21)),
        migrations.AddField(model_name='role', name='path', field=models.CharField(default='/', max_length=512)),
        migrations.AddField(model_name='role', name='max_session_duration',
                            field=models.PositiveIntegerField(default=3600)),
        migrations.AddField(model_name='role', name='tags', field=models.JSONField(default=list)),
        migrations.AlterField(model_name='role', name='description',
                              field=models.CharField(blank=True, default='', max_length=1000)),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(model_name='role', name='role_id', field=models.CharField(max_length=21, unique=True)),
        migrations.RemoveField(model_name='role', name='policy'),
    ]
