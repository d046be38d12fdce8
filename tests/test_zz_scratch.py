def test_x(app, demo_data, login_as):
    client = login_as("admin")
    html = client.get(f"/dashboard/{demo_data.campaign_id}/sae").get_data(as_text=True)
    css = client.get("/static/css/app.css")
    open("/tmp/sae_page.html", "w").write(html.replace('href="/static/', 'href="file:///work/wt/sae/surveyapp/static/'))
