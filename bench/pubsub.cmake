# The transport-limit client used by bench/tail_vs_firehose.sh.
if(TARGET forcepipe_pubsub_proto)
  add_executable(pubsub_discard_client ${CMAKE_CURRENT_LIST_DIR}/pubsub_discard_client.cc)
  target_link_libraries(pubsub_discard_client PRIVATE forcepipe_pubsub_proto)
endif()
