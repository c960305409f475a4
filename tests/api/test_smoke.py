from tests.conftest import GraphQLClient


async def test_create_and_read_project(gql: GraphQLClient) -> None:
    data = await gql.data('mutation { createProject(input: {name: "Apollo"}) { id name } }')
    project = data["createProject"]
    assert project["id"].startswith("proj-")
    read = await gql.data(
        "query($id: ID!) { project(id: $id) { name phases { id } } }", {"id": project["id"]}
    )
    assert read["project"] == {"name": "Apollo", "phases": []}
