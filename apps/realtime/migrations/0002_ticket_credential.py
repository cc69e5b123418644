"""A ticket keeps the sign-in that asked for it (a session's or a bearer token's hash, named as
services.credential_of names them), so that its sign-out closes the socket the ticket opened.
Existing tickets (sixty seconds' worth) name none."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('realtime', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='realtimeticket',
            name='credential',
            field=models.CharField(blank=True, default='', help_text="the sign-in that asked for it, as services.credential_of names it (empty: a sandbox command's); its sign-out closes the socket", max_length=80),
        ),
    ]
