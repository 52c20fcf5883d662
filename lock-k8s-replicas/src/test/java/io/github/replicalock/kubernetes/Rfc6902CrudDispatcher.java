package io.github.replicalock.kubernetes;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

/**
 * The CRUD mock's dispatcher, answering a failed JSON Patch as a real API server does.
 *
 * <p>Why: in kubernetes-server-mock 8.0.0 a JSON Patch whose {@code test} operation fails (or that
 * otherwise cannot be applied) throws out of {@code handlePatch} and the mock never answers: the
 * client waits for its request timeout and gets code -1. A real API server answers HTTP 422 with a
 * Status (reason Invalid). This subclass gives that answer, so that a lost race shows up in tests
 * the way it does in production. Everything else is the mock's own CRUD behaviour, including its
 * write lock around every mutation, which makes each patch atomic.
 */
final class Rfc6902CrudDispatcher extends KubernetesCrudDispatcher {

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        try {
            return super.handlePatch(request);
        } catch (RuntimeException e) {
            String message =
                    String.valueOf(e.getMessage()).replace("\\", "\\\\").replace("\"", "'");
            return new MockResponse()
                    .setResponseCode(422)
                    .setHeader("Content-Type", "application/json")
                    .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                            + "\"message\":\"the server rejected our request due to an error in our request: "
                            + message + "\",\"reason\":\"Invalid\",\"code\":422}");
        }
    }
}
