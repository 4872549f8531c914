using System.Net;
using System.Text;
using System.Text.Json;
using Mekong.Proto.Tests.Demo;

namespace Mekong.Proto.Tests;

/// <summary>The same handlers as JSON over HTTP/1.1: POST /api/v1/Service/Method.</summary>
public sealed class JsonTransportTests : IAsyncLifetime
{
    private DemoServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await DemoServer.StartAsync(kestrel: false, o => o.MaxReceiveMessageSize = 64 * 1024);
        _http = _server.TestServer.CreateClient();
        _http.DefaultRequestHeaders.Authorization = new("Bearer", "bob");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private Task<HttpResponseMessage> Post(string path, string json) =>
        _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private const string SubmitBody = """
        {"spec": {"project": "uni-a/vision", "name": "train", "gpusPerNode": 4, "gpuType": "h100",
                  "walltime": "7200s", "priority": "PRIORITY_HIGH", "command": ["python", "train.py"]}}
        """;

    [Fact]
    public async Task Unary_call_uses_the_proto3_JSON_mapping()
    {
        using var response = await Post("/api/v1/JobService/SubmitJob", SubmitBody);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var job = doc.RootElement.GetProperty("job");
        Assert.Equal("bob", job.GetProperty("user").GetString());
        Assert.Equal("JOB_STATE_PENDING", job.GetProperty("state").GetString());
        Assert.Equal("7200s", job.GetProperty("spec").GetProperty("walltime").GetString());
        Assert.Equal("PRIORITY_HIGH", job.GetProperty("spec").GetProperty("priority").GetString());

        var id = job.GetProperty("id").GetString();
        using var got = await Post("/api/v1/JobService/GetJob", $$"""{"id": "{{id}}"}""");
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);

        using var explained = await Post("/api/v1/JobService/ExplainJob", $$"""{"id": "{{id}}"}""");
        using var explanation = JsonDocument.Parse(await explained.Content.ReadAsStringAsync());
        Assert.Equal("quota-limit", explanation.RootElement.GetProperty("explanation").GetProperty("reasonCode").GetString());
        Assert.Equal("2030-01-01T00:00:00Z", explanation.RootElement.GetProperty("explanation").GetProperty("estimatedStart").GetString());
    }

    [Theory]
    [InlineData("""{"id": "j-missing"}""", "GetJob", HttpStatusCode.NotFound, "NOT_FOUND", "job j-missing not found")]
    [InlineData("""{"spec": {"project": "p", "gpusPerNode": 0}}""", "SubmitJob", HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "gpus_per_node")]
    [InlineData("""{"spec": {"project": """, "SubmitJob", HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "SubmitJobRequest")]
    [InlineData("""{"nosuchfield": 1}""", "GetJob", HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "nosuchfield")]
    [InlineData("""{"spec": {"project": "p", "gpusPerNode": "many"}}""", "SubmitJob", HttpStatusCode.BadRequest, "INVALID_ARGUMENT", "SubmitJobRequest")]
    [InlineData("{}", "NoSuchMethod", HttpStatusCode.NotFound, "UNIMPLEMENTED", "NoSuchMethod")]
    public async Task Errors_are_code_and_message_with_a_matching_HTTP_status(string body, string method, HttpStatusCode status, string code, string message)
    {
        using var response = await Post("/api/v1/JobService/" + method, body);
        Assert.Equal(status, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, doc.RootElement.GetProperty("code").GetString());
        Assert.Contains(message, doc.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversize_body_is_413_RESOURCE_EXHAUSTED()
    {
        var blob = new string('x', 100 * 1024);
        using var response = await Post("/api/v1/JobService/SubmitJob", "{\"spec\": {\"project\": \"p\", \"gpusPerNode\": 1, \"env\": {\"B\": \"" + blob + "\"}}}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("RESOURCE_EXHAUSTED", doc.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Bidirectional_methods_are_gRPC_only()
    {
        using var response = await Post("/api/v1/AgentService/Connect", "{}");
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
    }

    [Fact]
    public async Task Server_streaming_is_newline_delimited_JSON()
    {
        using var submit = await Post("/api/v1/JobService/SubmitJob", SubmitBody);
        using var submitted = JsonDocument.Parse(await submit.Content.ReadAsStringAsync());
        var id = submitted.RootElement.GetProperty("job").GetProperty("id").GetString();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/JobService/WatchJob")
        {
            Content = new StringContent($$"""{"id": "{{id}}"}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        Assert.Contains("JOB_EVENT_TYPE_SNAPSHOT", first, StringComparison.Ordinal);

        using var cancel = await Post("/api/v1/JobService/CancelJob", $$"""{"id": "{{id}}"}""");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var second = await reader.ReadLineAsync();
        Assert.Contains("JOB_STATE_CANCELLED", second, StringComparison.Ordinal);
        Assert.Null(await reader.ReadLineAsync());
    }

    [Fact]
    public async Task Streaming_error_before_output_is_a_plain_JSON_error()
    {
        using var response = await Post("/api/v1/JobService/WatchJob", """{"id": "j-missing"}""");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Empty_body_is_the_empty_message_and_grpc_timeout_is_honoured()
    {
        using var list = await Post("/api/v1/JobService/ListJobs", "");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/JobService/GetJob")
        {
            Content = new StringContent("""{"id": "slow"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("grpc-timeout", "100m");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }
}
